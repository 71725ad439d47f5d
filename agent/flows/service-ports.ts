/**
 * Ports on which a host is probably the server. Used only to pick the client/server roles of a
 * flow whose handshake we did not see (midstream pickup, UDP); protocol detection never relies
 * on ports.
 */
const SERVER_PORTS = new Uint8Array(65536);
for (let p = 1; p < 1024; p++) SERVER_PORTS[p] = 1;
for (const p of [
  104, 1433, 1521, 2575, 2761, 2762, 3306, 3389, 4242, 5432, 5500, 5671, 5672, 5938, 6379, 6661, 6662, 6663, 6664, 6665,
  6666, 6667, 6668, 6669, 7070, 8000, 8008, 8042, 8080, 8081, 8443, 8888, 9000, 9090, 9200, 9443, 11112, 27017,
]) {
  SERVER_PORTS[p] = 1;
}
for (let p = 5900; p <= 5910; p++) SERVER_PORTS[p] = 1;
// AnyDesk's LAN discovery: whoever sends to these from an ephemeral port is the announcer.
for (let p = 50001; p <= 50003; p++) SERVER_PORTS[p] = 1;

export function isLikelyServerPort(port: number): boolean {
  return SERVER_PORTS[port] === 1;
}
