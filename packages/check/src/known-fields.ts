/** Placeholder until the field catalogue lands. */
export function unknownFields(_module: string, _obj: unknown): string[] {
  return [];
}
