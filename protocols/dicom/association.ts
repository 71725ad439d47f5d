/**
 * What we know about one association while it runs, and the `dicom.association` record it
 * becomes when it is released, aborted, rejected, or the connection ends.
 */
import { isoMicro } from '../events/time.js';
import type { StreamEndReason } from '../stream.js';
import { contextResultName } from './pdu-types.js';
import type {
  AbortInfo,
  AcceptedContext,
  AssociateInfo,
  AssociationResult,
  DicomAssociationRecord,
  NegotiatedContext,
  RejectInfo,
} from './records.js';
import { sopClassName } from './sop-classes.js';
import type { StatusClass } from './status.js';
import { datasetEncoding, type DatasetEncoding } from './transfer-syntax.js';

export interface ContextInfo {
  abstractSyntax: string;
  transferSyntax: string;
  enc: DatasetEncoding;
}

const NO_COMMANDS: ReadonlyMap<string, number> = new Map();
const NO_FIELDS: ReadonlySet<string> = new Set();

export class Association {
  rq: AssociateInfo | null = null;
  ac: AssociateInfo | null = null;
  reject: RejectInfo | null = null;
  abort: AbortInfo | null = null;
  releaseRq = false;
  releaseRp = false;
  startSec = 0;
  startNsec = 0;
  /** Accepted presentation contexts by id: how to read each context's data sets. */
  readonly contexts = new Map<number, ContextInfo>();
  /** DIMSE commands by name; NO_COMMANDS (never written to) until the first one. */
  commands: ReadonlyMap<string, number> = NO_COMMANDS;
  dimse = 0;
  failures = 0;
  warnings = 0;
  /** Patient fields seen; NO_FIELDS (never written to) until the first one. */
  phi: ReadonlySet<string> = NO_FIELDS;
  pdus = 0;
  malformed = 0;
  gaps = 0;
  bytesLost = 0;
  emitted = false;

  constructor(tsSec: number, tsNsec: number) {
    this.startSec = tsSec;
    this.startNsec = tsNsec;
  }

  /** Called once the AC is in: only accepted contexts carry data sets. */
  acceptContexts(): void {
    this.contexts.clear();
    if (this.ac === null) return;
    const proposed = new Map<number, string>();
    if (this.rq !== null) for (const pc of this.rq.presentation_contexts) proposed.set(pc.id, pc.abstract_syntax ?? '');
    for (const pc of this.ac.presentation_contexts) {
      if (pc.result !== 0 || pc.transfer_syntaxes.length === 0) continue;
      const ts = pc.transfer_syntaxes[0];
      this.contexts.set(pc.id, { abstractSyntax: proposed.get(pc.id) ?? '', transferSyntax: ts, enc: datasetEncoding(ts) });
    }
  }

  countDimse(command: string, response: boolean, status: StatusClass | undefined, phi: Iterable<string>): void {
    this.dimse++;
    // Most open associations have no command yet: the collections are made with the first.
    const commands = this.commands === NO_COMMANDS ? (this.commands = new Map<string, number>()) : (this.commands as Map<string, number>);
    commands.set(command, (commands.get(command) ?? 0) + 1);
    if (response && status === 'failure') this.failures++;
    if (response && status === 'warning') this.warnings++;
    for (const f of phi) (this.phi === NO_FIELDS ? (this.phi = new Set<string>()) : (this.phi as Set<string>)).add(f);
  }

  /** Whether anything worth a record was seen (a stray PDU alone is not an association). */
  get worthReporting(): boolean {
    return this.rq !== null || this.pdus > 0;
  }

  result(endReason?: StreamEndReason): AssociationResult {
    if (this.reject !== null) return 'rejected';
    if (this.abort !== null) return 'aborted';
    // A peer may close right after sending A-RELEASE-RP; a clean FIN after the RQ is enough.
    if (this.releaseRp || (this.releaseRq && endReason === 'fin')) return 'released';
    return this.ac !== null ? 'accepted' : 'incomplete';
  }

  record(tsSec: number, tsNsec: number, endReason?: StreamEndReason): DicomAssociationRecord {
    const rq = this.rq;
    const ac = this.ac;
    const result = this.result(endReason);
    const abstract: string[] = [];
    const proposedTs: string[] = [];
    const contexts: NegotiatedContext[] = [];
    const byId = new Map<number, NegotiatedContext>();
    // Sets for the de-duplication: 256 contexts of many transfer syntaxes each would make list searches quadratic.
    const abstractSeen = new Set<string>();
    const proposedSeen = new Set<string>();
    const acceptedSeen = new Set<string>();
    if (rq !== null) {
      for (const pc of rq.presentation_contexts) {
        const as = pc.abstract_syntax ?? '';
        if (as !== '' && !abstractSeen.has(as)) {
          abstractSeen.add(as);
          abstract.push(as);
        }
        for (const t of pc.transfer_syntaxes) {
          if (proposedSeen.has(t)) continue;
          proposedSeen.add(t);
          proposedTs.push(t);
        }
        const c: NegotiatedContext = { id: pc.id, abstract_syntax: as, proposed_transfer_syntaxes: pc.transfer_syntaxes };
        contexts.push(c);
        byId.set(pc.id, c);
      }
    }
    const accepted: AcceptedContext[] = [];
    const ts: string[] = [];
    if (ac !== null) {
      for (const pc of ac.presentation_contexts) {
        let c = byId.get(pc.id);
        if (c === undefined) {
          // Answered but never proposed (or the RQ was not seen): keep the answer anyway.
          c = { id: pc.id, abstract_syntax: '', proposed_transfer_syntaxes: [] };
          contexts.push(c);
          byId.set(pc.id, c);
        }
        const res = pc.result ?? 0;
        c.result = res;
        c.result_name = contextResultName(res);
        if (res === 0 && pc.transfer_syntaxes.length > 0) {
          const t = pc.transfer_syntaxes[0];
          c.transfer_syntax = t;
          const acc: AcceptedContext = { id: pc.id, abstract_syntax: c.abstract_syntax, transfer_syntax: t };
          const name = sopClassName(c.abstract_syntax);
          if (name !== undefined) acc.abstract_syntax_name = name;
          accepted.push(acc);
          if (!acceptedSeen.has(t)) {
            acceptedSeen.add(t);
            ts.push(t);
          }
        }
      }
    }
    const durNs = (tsSec - this.startSec) * 1e9 + (tsNsec - this.startNsec);
    const r: DicomAssociationRecord = {
      type: 'dicom.association',
      ts_sec: tsSec,
      ts_nsec: tsNsec,
      start: isoMicro(this.startSec, this.startNsec),
      duration_ms: Math.max(0, Math.round(durNs / 1e3) / 1e3),
      calling_ae: rq?.calling_ae ?? '',
      called_ae: rq?.called_ae ?? '',
      result,
      application_context: rq?.application_context ?? '',
      abstract_syntaxes: abstract,
      transfer_syntaxes: ts,
      proposed_transfer_syntaxes: proposedTs,
      accepted_contexts: accepted,
      presentation_contexts: contexts,
      commands: Object.fromEntries(this.commands),
      dimse_count: this.dimse,
      failures: this.failures,
      warnings: this.warnings,
      phi_fields: [...this.phi],
      pdus: this.pdus,
      malformed: this.malformed,
      gaps: this.gaps,
      bytes_lost: this.bytesLost,
    };
    if (endReason !== undefined && result !== 'released') r.end_reason = endReason;
    const issues = [...(rq?.issues ?? []), ...(ac?.issues ?? [])];
    if (issues.length > 0) r.issues = [...new Set(issues)];
    if (this.reject !== null) {
      r.reject = this.reject;
      r.reject_reason = this.reject.reason_name;
    }
    if (this.abort !== null) r.abort = this.abort;
    if (rq !== null) {
      if (rq.max_pdu_length !== undefined) r.max_pdu_length = rq.max_pdu_length;
      if (rq.implementation_class_uid !== undefined) r.implementation_class_uid = rq.implementation_class_uid;
      if (rq.implementation_version !== undefined) r.implementation_version = rq.implementation_version;
      if (rq.async_ops !== undefined) r.async_ops = rq.async_ops;
      if (rq.role_selection.length > 0) r.role_selection = rq.role_selection;
      if (rq.extended_negotiation.length > 0) r.extended_negotiation = rq.extended_negotiation;
      if (rq.common_extended_negotiation.length > 0) r.common_extended_negotiation = rq.common_extended_negotiation;
      if (rq.user_identity !== undefined) r.user_identity = rq.user_identity;
    }
    if (ac !== null) {
      if (ac.max_pdu_length !== undefined) r.acceptor_max_pdu_length = ac.max_pdu_length;
      if (ac.implementation_class_uid !== undefined) r.acceptor_implementation_class_uid = ac.implementation_class_uid;
      if (ac.implementation_version !== undefined) r.acceptor_implementation_version = ac.implementation_version;
      if (ac.async_ops !== undefined) r.acceptor_async_ops = ac.async_ops;
      if (ac.role_selection.length > 0) r.acceptor_role_selection = ac.role_selection;
    }
    return r;
  }
}
