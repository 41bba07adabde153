export { buildServer, secureContextOptions, type ServerOptions } from './http-server.js';
export { buildWitnessServer, type WitnessServerOptions } from './witness-server.js';
