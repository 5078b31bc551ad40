// {{name}}: a Corral tool in JavaScript. The world in `wit/world.wit`
// declares what it exports; each export is a function of this module. A WIT
// `result` error is thrown as the error value.
import { log } from "corral:mcp/log@0.1.0";

export function countWords(text) {
  if (text.length === 0) {
    throw "the text is empty: give the text to count";
  }
  const words = text.split(/\s+/).filter((word) => word.length > 0).length;
  const lines = text.split(/\r?\n/).length - (text.endsWith("\n") ? 1 : 0);
  const characters = [...text].length;
  log("debug", "{{name}}", `counted ${words} words`);
  return { words, lines, characters };
}
