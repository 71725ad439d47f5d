/** Answer of a content probe looking at the first bytes of one direction of a stream. */
export const enum ProbeVerdict {
  No = 0,
  NeedMore = 1,
  Yes = 2,
}
