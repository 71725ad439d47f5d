import { classifyFnrDigits, FnrKind } from './fodselsnummer.js';

/** Letters, digits, `-` and `_` (service labels such as `_ldap`): what a host-name label holds. */
const LABEL = /^[A-Za-z0-9_-]{1,63}$/;
/**
 * Eight or more letters and digits, with upper case, lower case and a digit, and no `-` or `_`:
 * not a name anyone gives a host (`IntelliVue-MX450` has its hyphen) but an encoded token, such
 * as base64 of a password.
 */
const ENCODED = /^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[A-Za-z0-9]{8,}$/;

/** True when a run of eleven or more digits in the text holds a valid fødselsnummer anywhere in it. */
export function holdsFnrDigits(label: string): boolean {
  let run = 0;
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    run = c >= 0x30 && c <= 0x39 ? run + 1 : 0;
    if (run >= 11 && classifyFnrDigits(Buffer.from(label.slice(i - 10, i + 1), 'latin1'), 0) !== FnrKind.Invalid) return true;
  }
  return false;
}

/**
 * A host name from the wire (a DNS question or answer, a TLS server name, a DHCP host name) as
 * it may be reported: each label as it is when it has a label's shape, otherwise a placeholder
 * — `{fnr}` for one holding a fødselsnummer, `{token}` for an encoded token, `{text}` for text
 * that is not a label at all (spaces, `^`, commas: a person's name or an address). The domain
 * stays, so rules and the inventory still see where a device went; the patient does not.
 */
export function hostNameText(name: string): string {
  let clean = true;
  const labels = name.split('.');
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === '' || (LABEL.test(l) && !ENCODED.test(l) && !(l.length >= 11 && holdsFnrDigits(l)))) continue;
    clean = false;
    labels[i] = holdsFnrDigits(l) ? '{fnr}' : LABEL.test(l) ? '{token}' : '{text}';
  }
  return clean ? name : labels.join('.');
}

/** Software names and versions: letters, digits, spaces and `._:/+-` (`MSFT 5.0`, `OFFIS_DCMTK_367`). */
const SOFTWARE = /^[A-Za-z0-9 ._:/+-]{1,64}$/;

/**
 * A short software text (a DHCP vendor class, a DICOM implementation version name) as it may be
 * reported: in that shape and without a fødselsnummer or a run of ten digits, else undefined.
 */
export function softwareText(s: string): string | undefined {
  return SOFTWARE.test(s) && !/\d{10}/.test(s) && !holdsFnrDigits(s) ? s : undefined;
}
