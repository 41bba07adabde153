export { buildServer, secureContextOptions, type ServerOptions } from './http-server.js';
export { buildWitnessServer, type WitnessServerOptions } from './witness-server.js';
export { trackConnections, isRetiredConnection, type ConnectionRetirement } from './tls-connections.js';
