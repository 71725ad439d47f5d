/** A fixed pseudonym key, so tests can predict pseudonyms. Not a secret: tests only. */
export const TEST_PSEUDONYM_KEY = Buffer.from('muvakt-test-pseudonym-key-0123456789', 'utf8');
