/**
 * The PEM blocks of one label in a text (RFC 7468 §2), each whole from its BEGIN line to
 * its END line: certificates of a CA bundle, the lists of a CRL file. Operator files,
 * hostile until each block is parsed by its reader; this only finds them.
 */
export function pemBlocks(text: string, label: 'CERTIFICATE' | 'X509 CRL'): string[] {
  return text.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`, 'g')) ?? [];
}
