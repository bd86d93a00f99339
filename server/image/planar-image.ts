/** A picture between stages and in every image tool: planar RGB (CHW), float32, values in [0, 1]. */
export interface PlanarImage {
  data: Float32Array;
  width: number;
  height: number;
}
