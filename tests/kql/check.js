// Check KQL queries with the Kusto language service (the C# parser of
// Kusto.Language, compiled to JavaScript by Bridge.NET and published on
// npm as @kusto/language-service-next).
//
//   node check.js FILE...     check each file
//   node check.js -           check the query on stdin
//
// Each query is parsed (KustoCode.Parse: syntax diagnostics) and then
// parsed and analysed against the Log Analytics tables that
// `pullscan rules export --to kql` reads (KustoCode.ParseAndAnalyze:
// unknown names, wrong argument types, ...). Any diagnostic of either
// pass is printed as `FILE:LINE:COLUMN: SEVERITY CODE: MESSAGE` and makes
// the exit status 1. Exit status 2: a file could not be read.
//
// Run by tests/export.rs after `npm ci` in this directory.

"use strict";

const fs = require("fs");
require("@kusto/language-service-next/bridge.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.js");

const K = globalThis.Kusto.Language;
const S = K.Symbols;

// The columns the exported queries use, with their Log Analytics types.
const TABLES = {
  ContainerAppSystemLogs_CL: "(TimeGenerated:datetime, Log_s:string)",
  ContainerAppSystemLogs: "(TimeGenerated:datetime, Log:string)",
  KubeEvents: "(TimeGenerated:datetime, Message:string)",
  ContainerLogV2: "(TimeGenerated:datetime, LogMessage:dynamic)",
};

function globals() {
  const tables = Object.entries(TABLES).map(
    ([name, schema]) => new S.TableSymbol.$ctor7(name, schema, null),
  );
  const db = new S.DatabaseSymbol.$ctor1("loganalytics", tables, false);
  return K.GlobalState.Default.WithDatabase(db);
}

function toArray(list) {
  const out = [];
  for (let i = 0; i < list.Count; i++) out.push(list.getItem(i));
  return out;
}

function position(text, offset) {
  const before = text.slice(0, offset).split("\n");
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

function check(name, text, g) {
  const syntax = toArray(K.KustoCode.Parse(text).GetDiagnostics());
  const semantic = toArray(K.KustoCode.ParseAndAnalyze(text, g).GetDiagnostics());
  const seen = new Set();
  const problems = [];
  for (const d of syntax.concat(semantic)) {
    const line = `${name}:${position(text, d.Start)}: ${d.Severity} ${d.Code}: ${d.Message}`;
    if (!seen.has(line)) {
      seen.add(line);
      problems.push(line);
    }
  }
  return problems;
}

function main(args) {
  if (args.length === 0) {
    console.error("usage: node check.js FILE... | -");
    return 2;
  }
  const g = globals();
  let failed = false;
  for (const arg of args) {
    let text;
    try {
      text = fs.readFileSync(arg === "-" ? 0 : arg, "utf8");
    } catch (e) {
      console.error(`${arg}: ${e.message}`);
      return 2;
    }
    const problems = check(arg === "-" ? "<stdin>" : arg, text, g);
    for (const p of problems) console.log(p);
    if (problems.length > 0) failed = true;
    else console.log(`${arg}: ok (0 diagnostics)`);
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
