/**
 * Links a program to the host modules: the one place that knows which modules the sandbox
 * provides (the keys of the object the worker builds, so a module added there is listed
 * here with no second list to update), what a program that cannot link is told, and how a
 * host function reads its arguments.
 */

/**
 * The exit status of a program that cannot start or that traps: WasmEdge's runtime tool
 * returns EXIT_FAILURE for both (lib/driver/runtimeTool.cpp); only proc_exit sets another.
 */
export const EXIT_FAILURE = 1;

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
  return Object.fromEntries(
    Object.entries(modules).map(([name, functions]) => [name, unsignedArguments(functions)]),
  ) as WebAssembly.Imports;
}

/**
 * Every i32 a host function here takes is unsigned in its ABI (pointers, lengths, descriptors,
 * ids, sizes: WASI preview 1, WasmEdge's plugins and wasi-nn declare them u32), but V8 hands
 * i32s to JavaScript signed, so an address past 2 GiB would arrive negative. They are made
 * unsigned once, here, for every module, rather than at each use. i64s arrive as BigInt and
 * are left alone; no function here takes a float.
 */
function unsignedArguments(functions: object): object {
  return new Proxy(functions, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => value(...args.map((arg) => (typeof arg === 'number' ? arg >>> 0 : arg)));
    },
  });
}

/** The message for a link failure, or undefined when `error` is not one. */
export function linkFailureMessage(error: unknown): string | undefined {
  if (error instanceof LinkFailure || error instanceof WebAssembly.LinkError) return error.message;
  return undefined;
}
