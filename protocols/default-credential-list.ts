/**
 * Fingerprints of published vendor default credentials (see default-credentials.ts); never the
 * credentials themselves. Add an entry with `node dist/scripts/default-credentials.js add`,
 * which reads the password from standard input and rewrites this file.
 */
import type { DefaultCredentialEntry } from './default-credentials.js';

export const DEFAULT_CREDENTIAL_FINGERPRINTS: readonly DefaultCredentialEntry[] = [
  { fingerprint: '42784d0c7ede14e7935adad554ec8bf3fb17631e1ba32f171768c2cadb322195', vendor: 'Orthanc', product: 'DICOM server (official Docker images)' },
  { fingerprint: '07b733e758116b7f32b5139f377a51def09d19b0e96defdb328e73a7252a4c4c', vendor: 'Raspberry Pi', product: 'Raspberry Pi OS before April 2022' },
  { fingerprint: '06dcb38e5ebb86d0fd1a0abc46149940079efba6bbbbfe70bc649a06a40c4dd3', vendor: 'Ubiquiti', product: 'UniFi and airOS devices' },
  { fingerprint: '5f43837454e3a43fd89f53f1ee32014c802241ae57d3e5e87939fe21e1228ad7', vendor: 'Hikvision', product: 'IP cameras (older firmware)' },
  { fingerprint: '0f94551d7422b94ccd00eccfbd144cbd7a144b83df94100570cae4aed6cc0f76', vendor: 'Axis', product: 'network cameras (older firmware)' },
  { fingerprint: '84b1499a6dfa085dbbe8432a027a099df5fcd69a93fc2419192088b5f47c349a', vendor: 'Cisco', product: 'Small Business devices' },
];
