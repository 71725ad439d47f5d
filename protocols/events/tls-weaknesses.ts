/**
 * The names of weak TLS properties, shared by the TLS parser's events and the encryption rules.
 * Plain constants without TypeBox, so rules and parsers read them without loading the schemas.
 */
export const SUITE_WEAKNESSES = ['null-cipher', 'export-cipher', 'rc4-cipher', 'des-cipher', '3des-cipher', 'anonymous-key-exchange'] as const;

/**
 * Why a handshake is judged weak: a deprecated version (SSL 2.0/3.0, TLS 1.0/1.1; RFC 7568,
 * RFC 8996), a weak suite, TLS compression (CRIME), or a certificate that is expired, not yet
 * valid or self-signed.
 */
export const WEAK_REASONS = ['deprecated-version', ...SUITE_WEAKNESSES, 'compression', 'expired-certificate', 'not-yet-valid-certificate', 'self-signed-certificate'] as const;
