// A separate mDNS client for test/integration/oscquery.test.ts: browses for OSCQuery
// (_oscjson._tcp) and OSC (_osc._udp) services and prints one JSON line per service that
// comes up or goes down, until its parent kills it (or after 60 s).
import { Bonjour } from 'bonjour-service';

const bonjour = new Bonjour({}, (err) => console.error(JSON.stringify({ event: 'error', error: String(err?.message ?? err) })));
const print = (event, type) => (s) => console.log(JSON.stringify({ event, type, name: s.name, port: s.port, protocol: s.protocol, host: s.host, addresses: s.addresses ?? [], txt: s.txt ?? {} }));
for (const [type, protocol] of [['oscjson', 'tcp'], ['osc', 'udp']]) {
  const browser = bonjour.find({ type, protocol });
  browser.on('up', print('up', `_${type}._${protocol}`));
  browser.on('down', print('down', `_${type}._${protocol}`));
}
console.log(JSON.stringify({ event: 'ready' }));
const stop = () => bonjour.destroy(() => process.exit(0));
process.on('SIGTERM', stop);
setTimeout(stop, 60_000).unref();
