// SPDX-License-Identifier: Apache-2.0
// fnguard's runtime for Node.js (docs/runtime.md): the Lambda Runtime API's client.
//
// Loads MODULE from _HANDLER (MODULE.FUNCTION): /var/task/MODULE.js, .mjs or .cjs, then
// /opt/nodejs/node_modules; serves invocations for as long as the environment lives: GET next,
// call FUNCTION(event, context[, callback]) (it may return a promise), POST the result as
// JSON; an exception or a rejected promise is posted as an error. Node 18's standard library.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { pathToFileURL } = require('url');

const [apiHost, apiPort] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: apiHost, port: apiPort, method, agent,
      path: '/2018-06-01/runtime' + urlPath,
      headers: Object.assign({ 'Content-Type': 'application/json' }, headers || {},
        body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}) },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function errorBody(e, type) {
  const err = e instanceof Error ? e : new Error(String(e));
  return JSON.stringify({
    errorType: type || err.name || 'Error',
    errorMessage: err.message,
    stackTrace: (err.stack || '').split('\n'),
  });
}

async function post(urlPath, body, headers) {
  const res = await request('POST', urlPath, body, headers);
  if (res.status !== 202) {
    console.error(`runtime: ${urlPath}: ${res.status} ${res.body.toString()}`);
  }
}

async function loadHandler() {
  const handler = process.env._HANDLER || '';
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) {
    throw Object.assign(new Error(`bad handler '${handler}': expected MODULE.FUNCTION`),
      { lambdaType: 'Runtime.MalformedHandlerName' });
  }
  const moduleName = handler.slice(0, dot);
  const functionName = handler.slice(dot + 1);
  const taskRoot = process.env.LAMBDA_TASK_ROOT || '/var/task';
  const candidates = [];
  for (const dir of [taskRoot, '/opt/nodejs/node_modules', '/opt/nodejs']) {
    for (const ext of ['.js', '.mjs', '.cjs']) candidates.push(path.join(dir, moduleName + ext));
  }
  const file = candidates.find((f) => fs.existsSync(f));
  let mod;
  try {
    if (!file) throw new Error(`Cannot find module '${moduleName}' in ${taskRoot} or /opt/nodejs`);
    mod = file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : require(file);
  } catch (e) {
    throw Object.assign(e, { lambdaType: 'Runtime.ImportModuleError' });
  }
  const fn = mod[functionName] || (mod.default && mod.default[functionName]);
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(`${moduleName}.${functionName} is not a function`),
      { lambdaType: 'Runtime.HandlerNotFound' });
  }
  return fn;
}

function context(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    logGroupName: '',
    logStreamName: '',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

// A handler may return a value, a promise, or call back (event, context, callback).
function call(fn, event, ctx) {
  return new Promise((resolve, reject) => {
    const callback = (err, result) => (err ? reject(err) : resolve(result));
    try {
      const r = fn(event, ctx, callback);
      if (r && typeof r.then === 'function') r.then(resolve, reject);
      else if (fn.length < 3) resolve(r);
    } catch (e) {
      reject(e);
    }
  });
}

async function main() {
  let fn;
  try {
    fn = await loadHandler();
  } catch (e) {
    const type = e.lambdaType || 'Runtime.UserCodeSyntaxError';
    await post('/init/error', errorBody(e, type), { 'Lambda-Runtime-Function-Error-Type': type });
    process.exit(1);
  }
  for (;;) {
    const next = await request('GET', '/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] || '';
    try {
      const event = next.body.length ? JSON.parse(next.body.toString()) : {};
      const result = await call(fn, event, context(next.headers));
      await post(`/invocation/${id}/response`, JSON.stringify(result === undefined ? null : result));
    } catch (e) {
      await post(`/invocation/${id}/error`, errorBody(e),
        { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' });
    }
  }
}

main().catch((e) => {
  console.error('runtime:', e);
  process.exit(1);
});
