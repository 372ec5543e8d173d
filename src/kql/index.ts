export {
  analyzeKql,
  analyzeKqlSync,
  type KqlAnalysis,
  type KqlDiagnostic,
  type KqlSchema,
  preloadKqlAnalyzer,
} from "./analyzer.js";
export { executeKql } from "./engine.js";
export { KqlError } from "./errors.js";
export type * from "./types.js";
