// Importing the method packages registers every method in core's registry ('uniad', 'mlp', 'cnn',
// 'transformer', 'padim', 'patchcore'); everything in experiments imports this first.
import '@unified-ad/models-uniad';
import '@unified-ad/models-baselines';
