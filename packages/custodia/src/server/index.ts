export { buildServer, secureContextOptions, type ServerOptions } from './http-server.js';
export { buildWitnessServer } from './witness-server.js';
