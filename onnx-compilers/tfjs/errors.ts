/** Errors the converter raises on purpose: each says what in the model it cannot handle. */
export class ConvertError extends Error {
  override name = 'ConvertError';
}

/** A layer whose type, or one of whose settings, has no ONNX translation here. */
export class UnsupportedLayerError extends ConvertError {
  override name = 'UnsupportedLayerError';
  constructor(
    readonly layerType: string,
    readonly layerName: string,
    reason: string,
  ) {
    super(`layer '${layerName}' (${layerType}): ${reason}`);
  }
}
