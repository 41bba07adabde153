/**
 * An NSL-KDD / KDD'99 connection record: the 41 features of the KDD Cup 1999 data, in
 * the order and with the names and domains of the NSL-KDD ARFF header (`@attribute`
 * lines of KDDTrain+.arff; Tavallaee, Bagheri, Lu and Ghorbani, "A Detailed Analysis of
 * the KDD CUP 99 Data Set", IEEE CISDA 2009). The CSV files (KDDTrain+.txt and the like)
 * add the attack type and a difficulty level (0–21) after the 41 features.
 *
 * Three features are symbolic (protocol_type, service, flag); four are 0/1 (land,
 * logged_in, is_host_login, is_guest_login); the fifteen `*_rate` features are fractions
 * in [0, 1]; the rest are non-negative counts (duration in whole seconds, bytes,
 * connections).
 */

/** The 41 features, in column order. */
export const NSL_KDD_FEATURES = [
  'duration', 'protocol_type', 'service', 'flag', 'src_bytes', 'dst_bytes', 'land', 'wrong_fragment', 'urgent', 'hot',
  'num_failed_logins', 'logged_in', 'num_compromised', 'root_shell', 'su_attempted', 'num_root', 'num_file_creations',
  'num_shells', 'num_access_files', 'num_outbound_cmds', 'is_host_login', 'is_guest_login', 'count', 'srv_count',
  'serror_rate', 'srv_serror_rate', 'rerror_rate', 'srv_rerror_rate', 'same_srv_rate', 'diff_srv_rate',
  'srv_diff_host_rate', 'dst_host_count', 'dst_host_srv_count', 'dst_host_same_srv_rate', 'dst_host_diff_srv_rate',
  'dst_host_same_src_port_rate', 'dst_host_srv_diff_host_rate', 'dst_host_serror_rate', 'dst_host_srv_serror_rate',
  'dst_host_rerror_rate', 'dst_host_srv_rerror_rate',
] as const;

export type NslKddFeatureName = (typeof NSL_KDD_FEATURES)[number];

/** `@attribute 'protocol_type' {'tcp','udp', 'icmp'}` */
export const NSL_KDD_PROTOCOLS = ['tcp', 'udp', 'icmp'] as const;
export type NslKddProtocol = (typeof NSL_KDD_PROTOCOLS)[number];

/** `@attribute 'flag' {…}`: the Bro connection states of 1999. */
export const NSL_KDD_FLAGS = ['OTH', 'REJ', 'RSTO', 'RSTOS0', 'RSTR', 'S0', 'S1', 'S2', 'S3', 'SF', 'SH'] as const;
export type NslKddFlag = (typeof NSL_KDD_FLAGS)[number];

/** `@attribute 'service' {…}`: the 70 network services of the data set. */
export const NSL_KDD_SERVICES: readonly string[] = [
  'aol', 'auth', 'bgp', 'courier', 'csnet_ns', 'ctf', 'daytime', 'discard', 'domain', 'domain_u', 'echo', 'eco_i', 'ecr_i',
  'efs', 'exec', 'finger', 'ftp', 'ftp_data', 'gopher', 'harvest', 'hostnames', 'http', 'http_2784', 'http_443',
  'http_8001', 'imap4', 'IRC', 'iso_tsap', 'klogin', 'kshell', 'ldap', 'link', 'login', 'mtp', 'name', 'netbios_dgm',
  'netbios_ns', 'netbios_ssn', 'netstat', 'nnsp', 'nntp', 'ntp_u', 'other', 'pm_dump', 'pop_2', 'pop_3', 'printer',
  'private', 'red_i', 'remote_job', 'rje', 'shell', 'smtp', 'sql_net', 'ssh', 'sunrpc', 'supdup', 'systat', 'telnet',
  'tftp_u', 'tim_i', 'time', 'urh_i', 'urp_i', 'uucp', 'uucp_path', 'vmnet', 'whois', 'X11', 'Z39_50',
];

/** The four `{'0', '1'}` attributes. */
export const NSL_KDD_BINARY: readonly NslKddFeatureName[] = ['land', 'logged_in', 'is_host_login', 'is_guest_login'];

/** The fifteen features that are fractions of a connection window, in [0, 1]. */
export const NSL_KDD_RATES: readonly NslKddFeatureName[] = NSL_KDD_FEATURES.filter((f) => f.endsWith('_rate'));

/** The 41 features of one record: symbolic ones as their symbol, the rest as numbers. */
export type NslKddFeatures = {
  readonly [K in NslKddFeatureName]: K extends 'protocol_type' ? NslKddProtocol : K extends 'flag' ? NslKddFlag : K extends 'service' ? string : number;
};

/** The highest NSL-KDD difficulty level: how many of 21 learners got the record right. */
export const NSL_KDD_MAX_DIFFICULTY = 21;
