/**
 * The Lambda function package, at the same paths in the repository, in the zip `serverless
 * package` makes and in Lambda's task folder. serverless.yml names them (its
 * `package.patterns` and the function's `handler`); the tests check it agrees with these.
 */
export const FUNCTION_FILES = ['handlers/aws-lambda/handler.cjs', 'handlers/aws-lambda/handler.mjs'];
/**
 * The file Lambda loads: its Node.js runtime tries handler.js, then .mjs, then .cjs. The ES
 * module awaits the model at top level; handler.cjs is for tools that cannot load it.
 */
export const FUNCTION_ENTRY = 'handlers/aws-lambda/handler.mjs';
/** "<file without extension>.<export>", as Lambda's runtime reads it. */
export const FUNCTION_HANDLER = 'handlers/aws-lambda/handler.handler';
