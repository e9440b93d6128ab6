/** CUSTOM operators, lowered by their custom_code; any other custom op is unsupported. */
import type { LoweringContext, OperatorView } from './context.js';
import { lowerConvolution2DTransposeBias } from './transpose-conv.js';

const CUSTOM_LOWERINGS: ReadonlyMap<string, (ctx: LoweringContext, op: OperatorView) => void> = new Map([
  ['Convolution2DTransposeBias', lowerConvolution2DTransposeBias],
]);

export function lowerCustom(ctx: LoweringContext, op: OperatorView): void {
  const lowering = CUSTOM_LOWERINGS.get(op.customCode ?? '');
  if (!lowering) {
    // The message convert.ts gives any unsupported op, without the operator suffix added twice.
    ctx.current = undefined;
    throw ctx.error(`unsupported TFLite op ${op.name} (operator ${op.index} of subgraph 0)`);
  }
  lowering(ctx, op);
}
