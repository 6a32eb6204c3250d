// SPDX-License-Identifier: Apache-2.0
// A Node.js function, written as for AWS Lambda: an async handler whose result is sent back
// as JSON. Module state lives as long as the environment.
let calls = 0;

exports.handler = async (event, context) => {
  calls += 1;
  const name = (event && event.name) || 'world';
  console.log(`greeting ${name} (call ${calls})`);
  return {
    greeting: `Hello, ${name}!`,
    calls,
    function: context.functionName,
    version: context.functionVersion,
    requestId: context.awsRequestId,
    remainingPositive: context.getRemainingTimeInMillis() > 0,
    node: process.versions.node,
  };
};
