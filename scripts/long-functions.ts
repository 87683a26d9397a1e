// `npm run long-functions`: lists the production functions longer than 80 lines (issue 17: "no
// production function over 80 lines without a reason in a comment"). A function may stay long when a
// comment just above it says why, starting with `long-function:` (e.g. `// long-function: one table
// of 37 rows reads best in one place`). Exits 1 when a long function has no such reason, so CI can
// run it. Options: --max N (default 80), --all (also list the ones with a reason), DIR… (default: the
// production directories of tsconfig.build.json).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const ROOT = new URL('..', import.meta.url).pathname;
const PRODUCTION = ['common', 'crypto', 'protocol', 'apdu', 'qr', 'firmware-sim', 'daemon'];
const REASON = /long-function:\s*\S/;

interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
  /** The text after `long-function:` in the comment above the function, if any. */
  reason?: string;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === 'node_modules' || entry === 'dist') continue;
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts)$/.test(entry) && !/\.(test|d)\.ts$/.test(entry)) out.push(path);
  }
  return out;
}

function isFunction(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) ||
    ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)
  );
}

function short(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 40 ? `${oneLine.slice(0, 37)}...` : oneLine;
}

/** A readable name: `Class.method`, the variable or property it is assigned to, or the call it is passed to. */
function functionName(node: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
  const owner = ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : '';
  if (ts.isConstructorDeclaration(node)) return `${owner}constructor`;
  if (node.name) return owner + node.name.getText(sf);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(sf);
  if (ts.isCallExpression(parent)) return `callback of ${short(parent.expression.getText(sf))}(…)`;
  for (let up: ts.Node | undefined = parent; up; up = up.parent) {
    if (isFunction(up)) return `function inside ${functionName(up, sf)}`;
  }
  return '(anonymous)';
}

/** The `long-function:` reason in the comments just above the function (or above its statement). */
function reasonOf(node: ts.Node, sf: ts.SourceFile): string | undefined {
  let anchor: ts.Node = node;
  // `const x = () => {…}`, `export default function`, `x: function () {…}`: the comment sits on the statement
  while (anchor.parent && !ts.isSourceFile(anchor.parent) && !ts.isBlock(anchor.parent) && !ts.isClassLike(anchor.parent) && !ts.isObjectLiteralExpression(anchor.parent) && !ts.isCallExpression(anchor.parent)) {
    anchor = anchor.parent;
  }
  for (const range of ts.getLeadingCommentRanges(sf.text, anchor.getFullStart()) ?? []) {
    const text = sf.text.slice(range.pos, range.end);
    const m = REASON.exec(text);
    if (m) return text.slice(text.indexOf('long-function:') + 'long-function:'.length).replace(/\*\/\s*$/, '').replace(/\s*\n\s*(\/\/|\*)\s*/g, ' ').trim();
  }
  return undefined;
}

function longFunctions(files: string[], max: number): LongFunction[] {
  const found: LongFunction[] = [];
  for (const file of files) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (isFunction(node) && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        const lines = end - start + 1;
        if (lines > max) found.push({ file: relative(ROOT, file), line: start + 1, name: functionName(node, sf), lines, reason: reasonOf(node, sf) });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found.sort((a, b) => b.lines - a.lines);
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { max: { type: 'string', default: '80' }, all: { type: 'boolean', default: false } } });
  const max = Number(values.max);
  if (!Number.isInteger(max) || max < 1) {
    process.stderr.write(`long-functions: --max wants a positive integer, got ${values.max}\n`);
    process.exit(2);
  }
  const dirs = positionals.length ? positionals : PRODUCTION;
  const found = longFunctions(dirs.flatMap((d) => sourceFiles(resolve(ROOT, d))), max);
  const unexplained = found.filter((f) => !f.reason);
  for (const f of values.all ? found : unexplained) {
    process.stdout.write(`${String(f.lines).padStart(4)} lines  ${f.file}:${f.line}  ${f.name}${f.reason ? `  (reason: ${f.reason})` : ''}\n`);
  }
  process.stdout.write(`long-functions: ${unexplained.length} function(s) over ${max} lines without a reason, ${found.length - unexplained.length} with one\n`);
  process.exitCode = unexplained.length ? 1 : 0;
}

main();
