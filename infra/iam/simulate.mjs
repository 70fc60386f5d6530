// Evaluates IAM requests with @cloud-copilot/iam-simulate, a maintained simulator of AWS's policy
// evaluation (identity and resource policies, conditions, wildcards; every action and resource
// type checked against AWS's service reference). Driven by check_calls.py and policies.py.
//
// stdin: one JSON object per line. The first is {"policies": {NAME: DOCUMENT, ...}}; each next
// one is a request {"id", "principal", "action", "resource", "account", "context",
// "identity": [NAME, ...], "resourcePolicy": NAME|null}.
// stdout: one line per request: {"id", "result", "allow": [Sid, ...], "error"}; result is
// Allowed, ImplicitlyDenied, ExplicitlyDenied or Error. allow lists the Sids of the statements
// (identity and resource policy) that allowed it.
import { createInterface } from 'node:readline';
import { runSimulation } from '@cloud-copilot/iam-simulate';

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
let policies = null;
const out = [];
for await (const line of lines) {
  if (!line.trim()) continue;
  const message = JSON.parse(line);
  if (policies === null) {
    policies = message.policies;
    continue;
  }
  const simulation = {
    request: {
      principal: message.principal,
      action: message.action,
      resource: { resource: message.resource, accountId: message.account },
      contextVariables: message.context || {},
    },
    identityPolicies: (message.identity || []).map((name) => ({ name, policy: policies[name] })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  if (message.resourcePolicy) simulation.resourcePolicy = policies[message.resourcePolicy];
  let answer;
  try {
    const r = await runSimulation(simulation, {});
    if (r.resultType === 'error') {
      answer = { id: message.id, result: 'Error', allow: [], error: JSON.stringify(r.errors) };
    } else {
      const results = r.resultType === 'single' ? [r.result] : r.results;
      const allow = new Set();
      for (const one of results) {
        const a = one.analysis;
        for (const part of [a.identityAnalysis, a.resourceAnalysis]) {
          for (const s of (part && part.allowStatements) || []) {
            // The statement is the library's policy object; its JSON form carries the Sid.
            const sid = s.explain?.identifier ?? JSON.parse(JSON.stringify(s.statement)).Sid;
            if (sid) allow.add(sid);
          }
        }
      }
      answer = { id: message.id, result: r.overallResult, allow: [...allow], error: null };
    }
  } catch (e) {
    answer = { id: message.id, result: 'Error', allow: [], error: String(e) };
  }
  out.push(JSON.stringify(answer));
  if (out.length >= 1000) process.stdout.write(out.splice(0).join('\n') + '\n');
}
if (out.length) process.stdout.write(out.join('\n') + '\n');
