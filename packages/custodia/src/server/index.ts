export { buildServer, secureContextOptions, type ServerOptions } from './http-server.js';
