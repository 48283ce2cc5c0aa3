// Pictures of experiments, drawn with the eval package's renderers.
export interface CurveSeries {
  method: string;
  epoch: number[];
  loss: number[];
  i_auroc: number[];
  p_auroc: number[];
}

export async function writeCurvesPicture(_file: string, _series: CurveSeries[], _title: string): Promise<void> {
  // filled in with the eval package's curve renderer
}
