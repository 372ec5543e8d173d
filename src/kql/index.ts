export { analyzeKql, analyzeKqlSync, preloadKqlAnalyzer, type KqlAnalysis, type KqlDiagnostic, type KqlSchema } from "./analyzer.js";
export { executeKql } from "./engine.js";
export { KqlError } from "./errors.js";
export type * from "./types.js";
