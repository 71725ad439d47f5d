/**
 * DICOM upper layer (PS3.8 §9.3) constants and the code → name tables for the PDU fields
 * we report. Names are the ones PS3.8 uses, kebab-cased so they can be NDJSON values and
 * Prometheus label values without escaping.
 */

export const enum PduType {
  AssociateRq = 0x01,
  AssociateAc = 0x02,
  AssociateRj = 0x03,
  PData = 0x04,
  ReleaseRq = 0x05,
  ReleaseRp = 0x06,
  Abort = 0x07,
}

/** type(1) reserved(1) length(4, big endian). */
export const PDU_HEADER_LENGTH = 6;
/** item-length(4) presentation-context-id(1) message-control-header(1). */
export const PDV_HEADER_LENGTH = 6;
/** protocol-version(2) reserved(2) called-AE(16) calling-AE(16) reserved(32). */
export const ASSOCIATE_FIXED_LENGTH = 68;

export const enum ItemType {
  ApplicationContext = 0x10,
  PresentationContextRq = 0x20,
  PresentationContextAc = 0x21,
  AbstractSyntax = 0x30,
  TransferSyntax = 0x40,
  UserInformation = 0x50,
  MaxLength = 0x51,
  ImplementationClassUid = 0x52,
  AsyncOpsWindow = 0x53,
  RoleSelection = 0x54,
  ImplementationVersionName = 0x55,
  SopClassExtendedNegotiation = 0x56,
  SopClassCommonExtendedNegotiation = 0x57,
  UserIdentityRq = 0x58,
  UserIdentityAc = 0x59,
}

/** Message control header bits (PS3.8 §E.2). */
export const enum Mch {
  Command = 0x01,
  Last = 0x02,
}

export function rejectResultName(result: number): string {
  switch (result) {
    case 1:
      return 'rejected-permanent';
    case 2:
      return 'rejected-transient';
    default:
      return `unknown-${result}`;
  }
}

export function rejectSourceName(source: number): string {
  switch (source) {
    case 1:
      return 'service-user';
    case 2:
      return 'service-provider-acse';
    case 3:
      return 'service-provider-presentation';
    default:
      return `unknown-${source}`;
  }
}

/** The reason code means different things depending on the source (PS3.8 Table 9-21). */
export function rejectReasonName(source: number, reason: number): string {
  if (source === 1) {
    switch (reason) {
      case 1:
        return 'no-reason-given';
      case 2:
        return 'application-context-name-not-supported';
      case 3:
        return 'calling-ae-title-not-recognized';
      case 7:
        return 'called-ae-title-not-recognized';
    }
  } else if (source === 2) {
    switch (reason) {
      case 1:
        return 'no-reason-given';
      case 2:
        return 'protocol-version-not-supported';
    }
  } else if (source === 3) {
    switch (reason) {
      case 1:
        return 'temporary-congestion';
      case 2:
        return 'local-limit-exceeded';
    }
  }
  return `reserved-${reason}`;
}

export function abortSourceName(source: number): string {
  switch (source) {
    case 0:
      return 'service-user';
    case 2:
      return 'service-provider';
    default:
      return `reserved-${source}`;
  }
}

/** Only meaningful when the provider aborted; a service-user abort carries 0 here. */
export function abortReasonName(source: number, reason: number): string {
  if (source !== 2) return 'not-specified';
  switch (reason) {
    case 0:
      return 'reason-not-specified';
    case 1:
      return 'unrecognized-pdu';
    case 2:
      return 'unexpected-pdu';
    case 4:
      return 'unrecognized-pdu-parameter';
    case 5:
      return 'unexpected-pdu-parameter';
    case 6:
      return 'invalid-pdu-parameter-value';
    default:
      return `reserved-${reason}`;
  }
}

/** Per-context result in the A-ASSOCIATE-AC (PS3.8 Table 9-18). */
export function contextResultName(result: number): string {
  switch (result) {
    case 0:
      return 'acceptance';
    case 1:
      return 'user-rejection';
    case 2:
      return 'no-reason';
    case 3:
      return 'abstract-syntax-not-supported';
    case 4:
      return 'transfer-syntaxes-not-supported';
    default:
      return `unknown-${result}`;
  }
}

/** User Identity Negotiation type (PS3.7 §D.3.3.7). */
export function userIdentityTypeName(type: number): string {
  switch (type) {
    case 1:
      return 'username';
    case 2:
      return 'username-passcode';
    case 3:
      return 'kerberos';
    case 4:
      return 'saml';
    case 5:
      return 'jwt';
    default:
      return `unknown-${type}`;
  }
}
