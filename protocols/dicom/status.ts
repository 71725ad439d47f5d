/**
 * DIMSE Status (0000,0900) → class and meaning (PS3.7 Annex C, plus the service-specific
 * codes of PS3.4 that modalities and archives actually send). The class is what rules and
 * metrics use; the meaning is for people reading an alert.
 */

export type StatusClass = 'success' | 'pending' | 'cancel' | 'warning' | 'failure';

export function statusClass(code: number): StatusClass {
  if (code === 0x0000) return 'success';
  if (code === 0xff00 || code === 0xff01) return 'pending';
  if (code === 0xfe00) return 'cancel';
  // 0x0001 and the Bxxx range are warnings; so are two codes inside the 01xx failure block.
  if (code === 0x0001 || code === 0x0107 || code === 0x0116 || (code & 0xf000) === 0xb000) return 'warning';
  return 'failure';
}

const MEANINGS = new Map<number, string>([
  [0x0000, 'Success'],
  [0x0001, 'Warning: requested optional attributes are not supported'],
  [0x0105, 'Failure: no such attribute'],
  [0x0106, 'Failure: invalid attribute value'],
  [0x0107, 'Warning: attribute list error'],
  [0x0110, 'Failure: processing failure'],
  [0x0111, 'Failure: duplicate SOP instance'],
  [0x0112, 'Failure: no such SOP instance'],
  [0x0113, 'Failure: no such event type'],
  [0x0114, 'Failure: no such argument'],
  [0x0115, 'Failure: invalid argument value'],
  [0x0116, 'Warning: attribute value out of range'],
  [0x0117, 'Failure: invalid object instance'],
  [0x0118, 'Failure: no such SOP class'],
  [0x0119, 'Failure: class-instance conflict'],
  [0x0120, 'Failure: missing attribute'],
  [0x0121, 'Failure: missing attribute value'],
  [0x0122, 'Refused: SOP class not supported'],
  [0x0123, 'Failure: no such action'],
  [0x0124, 'Refused: not authorized'],
  [0x0210, 'Failure: duplicate invocation'],
  [0x0211, 'Failure: unrecognized operation'],
  [0x0212, 'Failure: mistyped argument'],
  [0x0213, 'Failure: resource limitation'],
  [0xa700, 'Refused: out of resources'],
  [0xa701, 'Refused: out of resources - unable to calculate number of matches'],
  [0xa702, 'Refused: out of resources - unable to perform sub-operations'],
  [0xa801, 'Refused: move destination unknown'],
  [0xa900, 'Error: data set does not match SOP class'],
  [0xb000, 'Warning: coercion of data elements / sub-operations completed with failures'],
  [0xb006, 'Warning: elements discarded'],
  [0xb007, 'Warning: data set does not match SOP class'],
  [0xc000, 'Error: cannot understand'],
  [0xfe00, 'Cancel: sub-operations terminated'],
  [0xff00, 'Pending: matches are continuing'],
  [0xff01, 'Pending: matches are continuing, optional keys not supported'],
]);

export function statusMeaning(code: number): string {
  const m = MEANINGS.get(code);
  if (m !== undefined) return m;
  const hi = code & 0xff00;
  if (hi === 0xa700) return 'Refused: out of resources';
  if (hi === 0xa900) return 'Error: data set does not match SOP class';
  if ((code & 0xf000) === 0xc000) return 'Error: cannot understand';
  if ((code & 0xf000) === 0xa000) return 'Failure';
  if ((code & 0xf000) === 0xb000) return 'Warning';
  return statusClass(code) === 'failure' ? 'Failure' : 'Unknown';
}

export function statusHex(code: number): string {
  return '0x' + code.toString(16).padStart(4, '0');
}
