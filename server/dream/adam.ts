/**
 * Adam (Kingma & Ba 2015), the optimiser lucid draws with: each parameter's step is its
 * running mean gradient over its running RMS gradient, so every frequency of a spectrum
 * moves at about the learning rate whatever its gradient's scale.
 */
export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const ADAM_DEFAULTS: Readonly<Omit<AdamSettings, 'learningRate'>> = Object.freeze({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });

export class Adam {
  private readonly mean: Float32Array;
  private readonly square: Float32Array;
  private steps = 0;

  constructor(
    size: number,
    private readonly settings: AdamSettings,
  ) {
    this.mean = new Float32Array(size);
    this.square = new Float32Array(size);
  }

  /** One step up the gradient (ascent: the objective is to be raised), in place. */
  ascend(params: Float32Array, grad: Float32Array): void {
    if (params.length !== this.mean.length || grad.length !== this.mean.length) throw new Error(`Adam was made for ${this.mean.length} params`);
    const { learningRate, beta1, beta2, epsilon } = this.settings;
    this.steps++;
    const unbias1 = 1 - beta1 ** this.steps;
    const unbias2 = 1 - beta2 ** this.steps;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i]!;
      const m = (this.mean[i] = beta1 * this.mean[i]! + (1 - beta1) * g);
      const v = (this.square[i] = beta2 * this.square[i]! + (1 - beta2) * g * g);
      params[i] = params[i]! + (learningRate * (m / unbias1)) / (Math.sqrt(v / unbias2) + epsilon);
    }
  }
}
