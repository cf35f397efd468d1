// anyserver.js -- a grpc-js server for any .proto files, loaded at run time with
// @grpc/proto-loader, with server reflection from @grpc/reflection (v1 and v1alpha).
// The tests use it as a real peer running services the workbench has never seen.
//
// Usage: node anyserver.js --listen ADDR --proto-dir DIR [--reflection] FILE.proto...
// (NODE_PATH names the node_modules that tests/node/install.sh filled.) It prints the
// address it listens on as its first line (ADDR may end in :0).
//
// What a method does depends on its name, as in tests/go/anyserver/main.go:
//   AddFunc  Student -> the student with " 你好" appended to name and age + 1
//   add      req{num1, num2} -> reply{res: num1 + num2}
//   Count    N{n} -> N{1} .. N{n};  Total: stream N -> the sum;  Echo: each one back
//   Fail     INVALID_ARGUMENT "n must be negative"
//   any other method whose request and reply are of one type: the request back;
//   any other: UNIMPLEMENTED.
// Every call gets the header "x-peer: node" and the trailer "x-trailer: done".
'use strict';

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { ReflectionService } = require('@grpc/reflection');

function parseArgs(argv) {
  const opts = { listen: '127.0.0.1:0', dir: '.', reflection: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--listen') opts.listen = argv[++i];
    else if (a === '--proto-dir') opts.dir = argv[++i];
    else if (a === '--reflection') opts.reflection = true;
    else if (a.startsWith('--')) throw new Error('unknown option ' + a);
    else opts.files.push(a);
  }
  if (!opts.files.length) throw new Error('usage: anyserver.js --listen ADDR --proto-dir DIR [--reflection] FILE.proto...');
  return opts;
}

const LOAD = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true };

function sameType(def) {
  return def.requestType.type.name === def.responseType.type.name &&
    JSON.stringify(def.requestType.type) === JSON.stringify(def.responseType.type);
}

function marks(call) {
  const md = new grpc.Metadata();
  md.set('x-peer', 'node');
  call.sendMetadata(md);
  const tr = new grpc.Metadata();
  tr.set('x-trailer', 'done');
  return tr;
}

// handler returns the grpc-js handler for one method, by its name.
function handler(name, def) {
  const unary = (fn) => (call, cb) => {
    const tr = marks(call);
    try {
      const r = fn(call.request);
      if (r.code) cb(Object.assign(r, { metadata: tr }));
      else cb(null, r, tr);
    } catch (e) {
      cb({ code: grpc.status.INTERNAL, details: String(e), metadata: tr });
    }
  };
  switch (name) {
    case 'AddFunc':
      return unary((s) => Object.assign({}, s, { name: (s.name || '') + ' 你好', age: (s.age || 0) + 1 }));
    case 'add':
      return unary((q) => ({ res: (q.num1 || 0) + (q.num2 || 0) }));
    case 'Fail':
      return unary(() => ({ code: grpc.status.INVALID_ARGUMENT, details: 'n must be negative' }));
    case 'Count':
      return (call) => {
        const tr = marks(call);
        const n = Math.min(call.request.n || 0, 100000);
        for (let i = 1; i <= n; i++) call.write({ n: i });
        call.end(tr);
      };
    case 'Total':
      return (call, cb) => {
        const tr = marks(call);
        let sum = 0;
        call.on('data', (m) => { sum += m.n || 0; });
        call.on('end', () => cb(null, { n: sum }, tr));
      };
  }
  if (!sameType(def)) {
    return (call, cb) => {
      const tr = marks(call);
      const err = { code: grpc.status.UNIMPLEMENTED, details: 'anyserver has nothing to do for ' + def.path, metadata: tr };
      if (cb) cb(err); else call.emit('error', err);
    };
  }
  if (!def.requestStream) {
    if (!def.responseStream) return unary((m) => m);
    return (call) => { const tr = marks(call); call.write(call.request); call.end(tr); };
  }
  if (!def.responseStream) {
    return (call, cb) => {
      const tr = marks(call);
      let last = {};
      call.on('data', (m) => { last = m; });
      call.on('end', () => cb(null, last, tr));
    };
  }
  return (call) => {
    const tr = marks(call);
    call.on('data', (m) => call.write(m));
    call.on('end', () => call.end(tr));
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const pkgDef = protoLoader.loadSync(opts.files, Object.assign({ includeDirs: [opts.dir] }, LOAD));
  const server = new grpc.Server();
  const names = [];
  for (const [full, svc] of Object.entries(pkgDef)) {
    if (typeof svc !== 'object' || svc.format || !Object.values(svc).every((m) => m && m.path)) continue;
    if (full.startsWith('grpc.reflection.')) continue;
    const impl = {};
    for (const [mname, def] of Object.entries(svc)) impl[mname] = handler(mname, def);
    server.addService(svc, impl);
    names.push(full);
  }
  if (opts.reflection) new ReflectionService(pkgDef).addToServer(server);
  server.bindAsync(opts.listen, grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      console.error('anyserver: ' + err.message);
      process.exit(1);
    }
    const host = opts.listen.slice(0, opts.listen.lastIndexOf(':'));
    process.stdout.write(host + ':' + port + '\n');
    console.error('anyserver: serving ' + names.join(', '));
  });
  const stop = () => server.tryShutdown(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
