// reflectclient.js -- a server reflection client made of grpc-js and proto-loader, speaking
// the reflection.proto that ships in @grpc/reflection (grpc.reflection.v1 by default). It
// prints what it found, one fact per line, like tests/go/reflectclient:
//   service NAME
//   file NAME package PKG (asked: Q)     each FileDescriptorProto, decoded by protobufjs
//     message NAME / rpc SVC.METHOD(IN) returns (OUT)
//     linked: FULL.METHOD                the files linked into a protobufjs Root
//   error CODE MESSAGE (asked: Q)
//
// Usage: node reflectclient.js --addr HOST:PORT [--version v1|v1alpha] [--symbol NAME]...
//        [--file NAME]...   (NODE_PATH names the node_modules tests/node/install.sh filled)
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
const descriptor = require('protobufjs/ext/descriptor');

function parseArgs(argv) {
  const o = { addr: '', version: 'v1', asks: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--addr') o.addr = argv[++i];
    else if (a === '--version') o.version = argv[++i];
    else if (a === '--symbol') o.asks.push({ file_containing_symbol: argv[++i] });
    else if (a === '--file') o.asks.push({ file_by_filename: argv[++i] });
    else throw new Error('unknown argument ' + a);
  }
  if (!o.addr) throw new Error('usage: reflectclient.js --addr HOST:PORT [--version v1|v1alpha] [--symbol S]... [--file F]...');
  return o;
}

function asked(q) {
  const k = Object.keys(q)[0];
  return k + ':' + JSON.stringify(q[k]);
}

// printFiles decodes each FileDescriptorProto, prints it, and links them all into one
// protobufjs Root (imports it lacks come from protobufjs's own copies).
function printFiles(blobs, q, all) {
  for (const b of blobs) {
    const fd = descriptor.FileDescriptorProto.decode(b);
    all.push(fd);
    console.log(`file ${fd.name} package ${fd.package || ''} (asked: ${asked(q)})`);
    for (const m of fd.messageType || []) console.log(`  message ${m.name}`);
    for (const s of fd.service || []) {
      for (const m of s.method || []) {
        const inp = (m.clientStreaming ? 'stream ' : '') + m.inputType;
        const out = (m.serverStreaming ? 'stream ' : '') + m.outputType;
        console.log(`  rpc ${s.name}.${m.name}(${inp}) returns (${out})`);
      }
    }
  }
}

function linked(files) {
  const byName = new Map();
  for (const f of files) if (!byName.has(f.name)) byName.set(f.name, f);
  const root = protobuf.Root.fromDescriptor(descriptor.FileDescriptorSet.create({ file: [...byName.values()] }));
  root.resolveAll();
  const out = [];
  const walk = (ns) => {
    for (const o of ns.nestedArray || []) {
      if (o instanceof protobuf.Service) for (const m of o.methodsArray) out.push(o.fullName.slice(1) + '.' + m.name);
      else if (o instanceof protobuf.Namespace) walk(o);
    }
  };
  walk(root);
  return out;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const dir = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
  const def = protoLoader.loadSync(`grpc/reflection/${o.version}/reflection.proto`,
    { includeDirs: [dir], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def).grpc.reflection[o.version];
  const client = new pkg.ServerReflection(o.addr, grpc.credentials.createInsecure());
  const call = client.ServerReflectionInfo({ deadline: Date.now() + 10000 });
  const asks = [{ list_services: '*' }].concat(o.asks);
  const files = [];
  let n = 0;
  let failed = false;
  call.on('data', (r) => {
    const q = asks[n++];
    if (r.list_services_response) {
      for (const s of r.list_services_response.service) console.log(`service ${s.name}`);
    } else if (r.file_descriptor_response) {
      try {
        printFiles(r.file_descriptor_response.file_descriptor_proto, q, files);
      } catch (e) {
        console.log(`error: a file descriptor that does not parse: ${e.message}`);
        failed = true;
      }
    } else if (r.error_response) {
      console.log(`error ${r.error_response.error_code} ${r.error_response.error_message} (asked: ${asked(q)})`);
    } else {
      console.log(`error: an answer of no known kind (asked: ${asked(q)})`);
      failed = true;
    }
    if (n < asks.length) call.write(asks[n]);
    else call.end();
  });
  call.on('error', (e) => {
    console.log(`error: the call failed: ${e.code} ${e.details}`);
    process.exitCode = 1;
  });
  call.on('end', () => {
    if (files.length) {
      try {
        for (const m of linked(files)) console.log(`  linked: ${m}`);
      } catch (e) {
        console.log(`error: the files do not link: ${e.message}`);
        failed = true;
      }
    }
    client.close();
    if (failed) process.exitCode = 1;
  });
  call.write(asks[0]);
}

main();
