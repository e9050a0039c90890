// A noisy neighbour in its own process (so it does not share the server's event loop in a test): closed loops that
// send one query over HTTP as fast as the server answers, and WebSocket sockets that subscribe and complete as fast
// as they can, for a bounded time against a loopback address. Prints one JSON line of counts when done.
// Input: one JSON argument { url, token, query, variables, httpLoops, wsSockets, subscription, durationMs }.
import WebSocket from 'ws';

const options = JSON.parse(process.argv[2]);
const until = Date.now() + options.durationMs;
const counts = {};
const count = (key) => (counts[key] = (counts[key] ?? 0) + 1);

async function httpLoop() {
  while (Date.now() < until) {
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body: JSON.stringify({ query: options.query, variables: options.variables }),
      });
      const body = await response.json();
      count(`http:${body.errors?.[0]?.extensions?.code ?? 'ok'}`);
    } catch {
      count('http:failed');
    }
  }
}

function wsLoop() {
  return new Promise((resolve) => {
    const socket = new WebSocket(options.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    let id = 0;
    const next = () => {
      if (Date.now() >= until) return socket.close(1000);
      id += 1;
      socket.send(JSON.stringify({ id: String(id), type: 'subscribe', payload: { query: options.subscription, variables: options.variables } }));
    };
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${options.token}` } })));
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw));
      if (message.type === 'connection_ack') return next();
      if (message.type === 'error') count(`ws:${message.payload?.[0]?.extensions?.code ?? 'error'}`);
      else if (message.type === 'next') {
        count('ws:next');
        socket.send(JSON.stringify({ id: message.id, type: 'complete' }));
      }
      // The server answers a subscribe it accepted with the current balance, one it refused with an error.
      if (message.type === 'error' || message.type === 'next') next();
    });
    socket.on('close', (code) => {
      count(`ws:closed:${code}`);
      resolve();
    });
    socket.on('error', () => count('ws:socket-error'));
  });
}

await Promise.all([...Array.from({ length: options.httpLoops }, httpLoop), ...Array.from({ length: options.wsSockets }, wsLoop)]);
process.stdout.write(`${JSON.stringify(counts)}\n`);
