import { classifyFnrDigits, FnrKind } from './fodselsnummer.js';

/** Letters, digits, `-` and `_` (service labels such as `_ldap`): what a host-name label holds. */
const LABEL = /^[A-Za-z0-9_-]{1,63}$/;
/**
 * Eight or more letters and digits, with upper case, lower case and a digit, and no `-` or `_`:
 * not a name anyone gives a host (`IntelliVue-MX450` has its hyphen) but an encoded token, such
 * as base64 of a password.
 */
const ENCODED = /^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[A-Za-z0-9]{8,}$/;

function holdsFnrDigits(label: string): boolean {
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
