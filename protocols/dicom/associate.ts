/**
 * A-ASSOCIATE-RQ/AC items (PS3.8 §9.3.2–9.3.3, PS3.7 Annex D) and the fixed-size
 * A-ASSOCIATE-RJ / A-ABORT bodies. Input is one complete PDU body; every item is read
 * through a sub-reader bounded by its own length and by the PDU, so a hostile item length
 * truncates that item and is recorded as an issue instead of reading a neighbour's bytes.
 */
import {
  abortReasonName,
  abortSourceName,
  ItemType,
  rejectReasonName,
  rejectResultName,
  rejectSourceName,
  userIdentityTypeName,
} from './pdu-types.js';
import { credentialFields, type CredentialFields } from '../credentials.js';
import { softwareText } from '../phi/host-name.js';
import type { Pseudonymize } from '../phi/pseudonym.js';
import { ByteReader, INVALID_AE, uidText } from './reader.js';
import type { AbortInfo, AssociateInfo, DicomDirection, PresentationContextItem, RejectInfo, UserIdentity } from './records.js';

/** Bounds the arrays a hostile PDU could otherwise grow (PS3.8 allows 128 contexts). */
const MAX_CONTEXTS = 256;
const MAX_TRANSFER_SYNTAXES = 64;
const MAX_NEGOTIATION_ITEMS = 256;
const MAX_ISSUES = 8;

export interface ParseOptions {
  /** Keyed pseudonym for the user-identity username; the value itself is never returned. */
  pseudonymize?: Pseudonymize;
  /** Receives the credential of a username-and-passcode identity (needs `pseudonymize`). */
  credential?: (fields: CredentialFields) => void;
}

function issue(info: AssociateInfo, what: string): void {
  if (info.issues.length < MAX_ISSUES && !info.issues.includes(what)) info.issues.push(what);
}

/** An item header (type, reserved, 2-byte length) and a reader bounded to its value. */
function nextItem(r: ByteReader, info: AssociateInfo): { type: number; body: ByteReader } | null {
  if (r.remaining() === 0) return null;
  if (!r.has(4)) {
    issue(info, 'item-overrun');
    r.skip(r.remaining());
    return null;
  }
  const type = r.u8();
  r.skip(1);
  const len = r.u16be();
  if (!r.has(len)) issue(info, 'item-overrun');
  // A short final item is still decoded as far as its bytes go: the truncation is the issue.
  const body = r.sub(Math.min(len, r.remaining()));
  return { type, body };
}

function uidOf(r: ByteReader): string {
  return uidText(r.buf, r.pos, r.end);
}

/** Decodes an A-ASSOCIATE-RQ (`ac` false) or -AC (`ac` true) body [off, end). */
export function parseAssociate(buf: Buffer, off: number, end: number, ac: boolean, opts: ParseOptions = {}): AssociateInfo {
  const r = new ByteReader(buf, off, end);
  const info: AssociateInfo = {
    protocol_version: 0,
    called_ae: '',
    calling_ae: '',
    application_context: '',
    presentation_contexts: [],
    role_selection: [],
    extended_negotiation: [],
    common_extended_negotiation: [],
    issues: [],
  };
  info.protocol_version = r.u16be();
  r.skip(2);
  info.called_ae = r.ae();
  info.calling_ae = r.ae();
  r.skip(32);
  if (r.overrun) {
    issue(info, 'short-fixed-part');
    return shareEmptyLists(info);
  }
  if (info.called_ae === INVALID_AE || info.calling_ae === INVALID_AE) issue(info, 'invalid-ae-title');
  for (let it = nextItem(r, info); it !== null; it = nextItem(r, info)) {
    const b = it.body;
    switch (it.type) {
      case ItemType.ApplicationContext:
        info.application_context = uidOf(b);
        break;
      case ItemType.PresentationContextRq:
      case ItemType.PresentationContextAc:
        if ((it.type === ItemType.PresentationContextAc) !== ac) issue(info, 'context-item-type');
        if (info.presentation_contexts.length >= MAX_CONTEXTS) issue(info, 'too-many-contexts');
        else info.presentation_contexts.push(presentationContext(b, info, ac));
        break;
      case ItemType.UserInformation:
        userInformation(b, info, ac, opts);
        break;
      default:
        issue(info, 'unknown-item');
    }
  }
  return shareEmptyLists(info);
}

/** Frozen: nothing adds to a list once its PDU is decoded. */
const NONE: never[] = Object.freeze([]) as never[];

/**
 * An open association keeps its RQ for its whole life, and most of its lists stay empty: they
 * share one frozen empty array instead of one each.
 */
function shareEmptyLists(info: AssociateInfo): AssociateInfo {
  if (info.role_selection.length === 0) info.role_selection = NONE;
  if (info.extended_negotiation.length === 0) info.extended_negotiation = NONE;
  if (info.common_extended_negotiation.length === 0) info.common_extended_negotiation = NONE;
  if (info.issues.length === 0) info.issues = NONE;
  return info;
}

function presentationContext(b: ByteReader, info: AssociateInfo, ac: boolean): PresentationContextItem {
  const id = b.u8();
  b.skip(1);
  // Byte 3 is the result/reason in the AC and reserved in the RQ.
  const result = b.u8();
  b.skip(1);
  const pc: PresentationContextItem = { id, transfer_syntaxes: [] };
  if (b.overrun) {
    issue(info, 'item-overrun');
    return pc;
  }
  if (ac) pc.result = result;
  for (let it = nextItem(b, info); it !== null; it = nextItem(b, info)) {
    if (it.type === ItemType.AbstractSyntax) {
      pc.abstract_syntax = uidOf(it.body);
    } else if (it.type === ItemType.TransferSyntax) {
      if (pc.transfer_syntaxes.length < MAX_TRANSFER_SYNTAXES) pc.transfer_syntaxes.push(uidOf(it.body));
    } else {
      issue(info, 'unknown-sub-item');
    }
  }
  return pc;
}

function userInformation(b: ByteReader, info: AssociateInfo, ac: boolean, opts: ParseOptions): void {
  let negotiations = 0;
  for (let it = nextItem(b, info); it !== null; it = nextItem(b, info)) {
    const s = it.body;
    switch (it.type) {
      case ItemType.MaxLength:
        info.max_pdu_length = s.u32be();
        if (s.overrun) issue(info, 'item-overrun');
        break;
      case ItemType.ImplementationClassUid:
        info.implementation_class_uid = uidOf(s);
        break;
      case ItemType.ImplementationVersionName:
        // Free text of 16 characters: reported only as a software name (no patient number in it).
        {
          const v = softwareText(s.text(s.remaining(), 16));
          if (v !== undefined) info.implementation_version = v;
        }
        break;
      case ItemType.AsyncOpsWindow:
        info.async_ops = { invoked: s.u16be(), performed: s.u16be() };
        if (s.overrun) issue(info, 'item-overrun');
        break;
      case ItemType.RoleSelection: {
        if (++negotiations > MAX_NEGOTIATION_ITEMS) break;
        const n = s.u16be();
        const uid = s.sub(n);
        const scu = s.u8();
        const scp = s.u8();
        if (s.overrun) issue(info, 'item-overrun');
        else info.role_selection.push({ sop_class_uid: uidOf(uid), scu: scu === 1, scp: scp === 1 });
        break;
      }
      case ItemType.SopClassExtendedNegotiation: {
        if (++negotiations > MAX_NEGOTIATION_ITEMS) break;
        const n = s.u16be();
        const uid = s.sub(n);
        if (s.overrun) issue(info, 'item-overrun');
        else info.extended_negotiation.push({ sop_class_uid: uidOf(uid), info_length: s.remaining() });
        break;
      }
      case ItemType.SopClassCommonExtendedNegotiation: {
        if (++negotiations > MAX_NEGOTIATION_ITEMS) break;
        const n = s.u16be();
        const uid = s.sub(n);
        const m = s.u16be();
        const svc = s.sub(m);
        if (s.overrun) issue(info, 'item-overrun');
        else info.common_extended_negotiation.push({ sop_class_uid: uidOf(uid), service_class_uid: uidOf(svc) });
        break;
      }
      case ItemType.UserIdentityRq:
        if (ac) issue(info, 'user-identity-rq-in-ac');
        info.user_identity = userIdentity(s, info, opts);
        break;
      case ItemType.UserIdentityAc:
        if (!ac) issue(info, 'user-identity-ac-in-rq');
        info.user_identity_response = s.u16be() > 0;
        break;
      default:
        issue(info, 'unknown-user-item');
    }
  }
}

/**
 * Reads the identity only far enough to learn what is present. The username is passed to the
 * caller's keyed pseudonymizer and dropped. A passcode exists as a string only inside
 * credentialFields, which keeps its keyed fingerprint and whether it is a published default;
 * a ticket, assertion or token is never turned into a string at all.
 */
function userIdentity(s: ByteReader, info: AssociateInfo, opts: ParseOptions): UserIdentity {
  const type = s.u8();
  const positive = s.u8();
  const primaryLen = s.u16be();
  const primaryStart = s.pos;
  s.skip(primaryLen);
  const primaryEnd = s.pos;
  // The secondary-field length is always there (0 unless type 2); tolerate senders that omit it.
  const secondaryLen = s.has(2) ? s.u16be() : 0;
  const secondaryStart = s.pos;
  s.skip(secondaryLen);
  if (s.overrun) issue(info, 'item-overrun');
  const isName = type === 1 || type === 2;
  const ui: UserIdentity = {
    type,
    type_name: userIdentityTypeName(type),
    username_present: isName && primaryEnd > primaryStart,
    password_present: type === 2 && secondaryLen > 0 && !s.overrun,
    token_present: type >= 3 && type <= 5 && primaryEnd > primaryStart,
    positive_response_requested: positive === 1,
  };
  if (ui.username_present && opts.pseudonymize) {
    ui.username_pseudonym = opts.pseudonymize('dicom-username', s.buf.toString('utf8', primaryStart, primaryEnd));
  }
  if (ui.password_present && opts.credential && opts.pseudonymize) {
    const user = ui.username_present ? s.buf.toString('utf8', primaryStart, primaryEnd) : undefined;
    opts.credential(credentialFields(opts.pseudonymize, 'dicom', 'dicom-user-identity', user, s.buf.toString('utf8', secondaryStart, secondaryStart + secondaryLen), 'dicom-username'));
  }
  return ui;
}

/** A-ASSOCIATE-RJ body: reserved(1) result(1) source(1) reason(1). */
export function parseReject(buf: Buffer, off: number, end: number): RejectInfo | null {
  if (end - off < 4) return null;
  const result = buf[off + 1];
  const source = buf[off + 2];
  const reason = buf[off + 3];
  return {
    result,
    result_name: rejectResultName(result),
    source,
    source_name: rejectSourceName(source),
    reason,
    reason_name: rejectReasonName(source, reason),
  };
}

/** A-ABORT body: reserved(2) source(1) reason(1). */
export function parseAbort(buf: Buffer, off: number, end: number, direction: DicomDirection): AbortInfo | null {
  if (end - off < 4) return null;
  const source = buf[off + 2];
  const reason = buf[off + 3];
  return {
    source,
    source_name: abortSourceName(source),
    reason,
    reason_name: abortReasonName(source, reason),
    direction,
  };
}
