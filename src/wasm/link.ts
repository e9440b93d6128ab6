/**
 * Links a program to the host modules: the one place that knows which modules the sandbox
 * provides (the keys of the object the worker builds, so a module added there is listed
 * here with no second list to update), and what a program that cannot link is told.
 */

/** WasmEdge's runtime tool exits EXIT_FAILURE for a program it cannot instantiate. */
export const LINK_FAILURE_EXIT = 1;

/** A program that cannot be linked: an import of a module or function not provided. */
export class LinkFailure extends Error {}

type HostModules = Readonly<Record<string, object>>;

/**
 * The imports for `module`, or a LinkFailure naming the first module it imports that the
 * sandbox does not provide, with the ones it does (V8 would say only "module is not an
 * object or function").
 */
export function linkImports(module: WebAssembly.Module, modules: HostModules): WebAssembly.Imports {
  const missing = WebAssembly.Module.imports(module).find((entry) => !Object.hasOwn(modules, entry.module));
  if (missing)
    throw new LinkFailure(
      `it imports module '${missing.module}', which the sandbox does not provide (it provides: ${Object.keys(modules).join(', ')})`,
    );
  return modules as WebAssembly.Imports;
}

/** The message for a link failure, or undefined when `error` is not one. */
export function linkFailureMessage(error: unknown): string | undefined {
  if (error instanceof LinkFailure || error instanceof WebAssembly.LinkError) return error.message;
  return undefined;
}
