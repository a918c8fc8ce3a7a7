// Check LogQL queries with Grafana's LogQL grammar for Lezer (the parser
// Grafana's query editor uses; npm @grafana/lezer-logql).
//
//   node check-logql.js FILE...     check each file
//   node check-logql.js -           check the query on stdin
//
// Any error node in the syntax tree is printed as `FILE:LINE:COLUMN:
// syntax error near "..."` and makes the exit status 1. The grammar checks
// the query's structure (selector, pipeline stages, range aggregation);
// it does not look inside strings, so the label_format template and the
// regexes are not checked here (src/export.rs tests the translation).
// Exit status 2: a file could not be read.

"use strict";

const fs = require("fs");
const { parser } = require("@grafana/lezer-logql");

function position(text, offset) {
  const before = text.slice(0, offset).split("\n");
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

function check(name, text) {
  const problems = [];
  parser.parse(text).iterate({
    enter(node) {
      if (node.type.isError) {
        const near = JSON.stringify(text.slice(node.from, node.from + 30));
        problems.push(`${name}:${position(text, node.from)}: syntax error near ${near}`);
      }
    },
  });
  return problems;
}

function main(args) {
  if (args.length === 0) {
    console.error("usage: node check-logql.js FILE... | -");
    return 2;
  }
  let failed = false;
  for (const arg of args) {
    let text;
    try {
      text = fs.readFileSync(arg === "-" ? 0 : arg, "utf8");
    } catch (e) {
      console.error(`${arg}: ${e.message}`);
      return 2;
    }
    const problems = check(arg === "-" ? "<stdin>" : arg, text);
    for (const p of problems) console.log(p);
    if (problems.length > 0) failed = true;
    else console.log(`${arg}: ok (0 syntax errors)`);
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
