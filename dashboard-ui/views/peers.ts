/**
 * Address pairs from the hourly flow history, as tables: a device's peers (the other address
 * and the direction seen from the device) or a matrix cell's pairs (client and server), and the
 * flows per hour or day with a bar per row (a <meter>, no chart library).
 */
import { t, time } from '../context.js';
import { DATA, el, formatBytes } from '../dom.js';
import type { Key } from '../i18n.js';
import type { FlowPeers, PeerItem } from '../types.js';

/**
 * The scrolling box of a wide table in the narrow panel: focusable, so a keyboard user can
 * scroll it, and named for what it holds.
 */
export function scrollBox(label: string, table: HTMLElement): HTMLElement {
  return el('div', { cls: 'table-wrap', attrs: { tabindex: 0, role: 'region', 'aria-label': label } }, [table]);
}

function head(keys: readonly Key[]): HTMLElement {
  return el('thead', {}, [el('tr', {}, keys.map((k) => el('th', { text: t(k), attrs: { scope: 'col' } })))]);
}

function encCell(p: PeerItem): HTMLElement {
  return encryptionCell(p.encrypted);
}

/** Encrypted or in the clear, with the matrix's marks (✓ / ⚠). */
export function encryptionCell(encrypted: boolean): HTMLElement {
  return el('td', { attrs: { 'data-encrypted': String(encrypted) } }, [el('span', { cls: `app inline ${encrypted ? 'enc' : 'clear'}`, text: encrypted ? t('encrypted') : t('legendClear') })]);
}

function counts(p: PeerItem): HTMLElement[] {
  return [
    el('td', { cls: 'time', text: time(p.first_seen), attrs: { title: p.first_seen } }),
    el('td', { cls: 'time', text: time(p.last_seen), attrs: { title: p.last_seen } }),
    el('td', { cls: 'num flows', text: p.flows }),
    el('td', { cls: 'num', text: formatBytes(p.bytes) }),
    el('td', { cls: 'num', text: p.phi }),
  ];
}

/** A device's peers: per pair the other address, the direction, zones, app, encryption and counts. */
export function devicePeersTable(data: FlowPeers, own: readonly string[], id: string): HTMLElement {
  const mine = new Set(own);
  const rows = data.items.map((p) => {
    const out = mine.has(p.client_ip);
    const peer = out ? p.server_ip : p.client_ip;
    return el('tr', { attrs: { 'data-peer': peer, 'data-app': p.app } }, [
      el('td', { cls: 'mono', text: peer, attrs: DATA }),
      el('td', { text: t(out ? 'p.out' : 'p.in') }),
      el('td', { cls: 'zones', text: `${p.zone_src} → ${p.zone_dst}`, attrs: DATA }),
      el('td', { cls: 'mono', text: p.app, attrs: DATA }),
      encCell(p),
      ...counts(p),
    ]);
  });
  return scrollBox(t('p.peer'), el('table', { cls: 'list peers', attrs: { id } }, [head(['p.peer', 'p.direction', 'p.zones', 'p.app', 'p.enc', 'f.first', 'f.last', 'p.flows', 'p.bytes', 'p.phiCol']), el('tbody', {}, rows)]));
}

/** A matrix cell's pairs: client, server, app, encryption and counts. */
export function cellPairsTable(data: FlowPeers, id: string): HTMLElement {
  const rows = data.items.map((p) =>
    el('tr', { attrs: { 'data-client': p.client_ip, 'data-server': p.server_ip, 'data-app': p.app } }, [
      el('td', { cls: 'mono', text: p.client_ip, attrs: DATA }),
      el('td', { cls: 'mono', text: p.server_ip, attrs: DATA }),
      el('td', { cls: 'mono', text: p.app, attrs: DATA }),
      encCell(p),
      ...counts(p),
    ]),
  );
  return scrollBox(t('cellPairsH'), el('table', { cls: 'list peers', attrs: { id } }, [head(['p.client', 'p.server', 'p.app', 'p.enc', 'f.first', 'f.last', 'p.flows', 'p.bytes', 'p.phiCol']), el('tbody', {}, rows)]));
}

/** Flows per hour (or day) as rows with a bar each, the largest filling it. */
export function seriesTable(data: FlowPeers, id: string): HTMLElement {
  const max = Math.max(1, ...data.series.map((s) => s.flows));
  const label = (start: string) => (data.step === 'day' ? start : time(start));
  return scrollBox(t(data.step === 'day' ? 'seriesDay' : 'seriesHour'), 
    el('table', { cls: 'list series', attrs: { id } }, [
      el('caption', { cls: 'small', text: t('seriesCaption', { step: t(`step.${data.step}` as Key) }) }),
      head(['p.time', 'p.flows', 'p.bytes']),
      el(
        'tbody',
        {},
        data.series.map((s) =>
          el('tr', { attrs: { 'data-start': s.start, 'data-flows': s.flows } }, [
            el('td', { cls: 'time', text: label(s.start), attrs: { title: s.start } }),
            el('td', { cls: 'num' }, [
              el('meter', { attrs: { min: 0, max, value: s.flows, 'aria-label': t('p.flows') } }),
              ` ${s.flows}`,
            ]),
            el('td', { cls: 'num', text: formatBytes(s.bytes) }),
          ]),
        ),
      ),
    ]),
  );
}

/** The note that the largest pairs only are listed, when they are. */
export function truncatedNote(data: FlowPeers): HTMLElement[] {
  return data.truncated ? [el('p', { cls: 'small', text: t('peersTruncated', { n: data.items.length }) })] : [];
}
