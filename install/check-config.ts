/**
 * install.sh's configuration check: resolves the configuration exactly as the server
 * will (file from PORTRAITS_CONFIG, environment, defaults), so a mistake is reported at
 * install time with the same message, and prints the address the display unit opens.
 * Usage: node --import tsx install/check-config.ts   (exit 1 and the reason on stderr)
 */
import { ConfigError, resolveConfig } from '../server/config.js';

try {
  const config = resolveConfig();
  if (config.port === 0) throw new ConfigError('port: 0 (a random port) cannot be used by the kiosk display; set a fixed "port" such as 8080');
  const anyAddress = ['0.0.0.0', '::', ''].includes(config.host);
  const host = anyAddress ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  process.stdout.write(`http://${host}:${config.port}\n`);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
}
