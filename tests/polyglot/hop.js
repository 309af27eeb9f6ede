'use strict';
// A Node.js service between two .NET services in Lanes' polyglot tests (tests/Lanes.EndToEnd.Tests/Polyglot). It knows
// nothing about lanes: it is instrumented with OpenTelemetry JS the way its team configured it, and its tracer forwards
// what it understands. Installed by ./test.sh (npm ci, from package-lock.json, into the ignored node_modules).
//
//   HOP_PROPAGATORS  w3c (trace context + baggage, OpenTelemetry's default) | tracecontext | jaeger | ottrace
//   HOP_DOWNSTREAM   the URL every request is forwarded to (GET); its answer is this service's answer
//   HOP_ORIGIN_LANE  origin mode: no inbound lane; put <HOP_LANE_KEY>=<lane> in this service's own baggage first
//   HOP_LANE_KEY     the baggage key of origin mode
// Prints "listening <port>" once it listens on 127.0.0.1 (port 0: the OS picks).

const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { CompositePropagator, W3CTraceContextPropagator, W3CBaggagePropagator } = require('@opentelemetry/core');
const { JaegerPropagator } = require('@opentelemetry/propagator-jaeger');
const { OTTracePropagator } = require('@opentelemetry/propagator-ot-trace');
const api = require('@opentelemetry/api');

const propagators = {
  w3c: () => new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  tracecontext: () => new W3CTraceContextPropagator(),
  jaeger: () => new JaegerPropagator(),
  ottrace: () => new OTTracePropagator(),
};

const choice = process.env.HOP_PROPAGATORS || 'w3c';
if (!propagators[choice]) {
  console.error(`HOP_PROPAGATORS=${choice}: use ${Object.keys(propagators).join(', ')}`);
  process.exit(2);
}

const provider = new NodeTracerProvider();
provider.register({ propagator: propagators[choice]() });
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });

// Required after the instrumentation is registered, so outgoing calls are traced and carry the context.
const http = require('http');

const downstream = process.env.HOP_DOWNSTREAM;
const originLane = process.env.HOP_ORIGIN_LANE;
const laneKey = process.env.HOP_LANE_KEY;

function forward(res) {
  const request = http.get(downstream, (answer) => {
    let body = '';
    answer.setEncoding('utf8');
    answer.on('data', (chunk) => { body += chunk; });
    answer.on('end', () => {
      res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] || 'text/plain' });
      res.end(body);
    });
  });
  request.on('error', (error) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(String(error));
  });
}

const server = http.createServer((req, res) => {
  req.resume();
  if (originLane) {
    const baggage = api.propagation.createBaggage({ [laneKey]: { value: originLane } });
    api.context.with(api.propagation.setBaggage(api.context.active(), baggage), () => forward(res));
  } else {
    forward(res);
  }
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
