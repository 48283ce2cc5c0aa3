// Prints the layers a backbone offers (name, stride, channels at its input size).
// Usage: npx ts-node packages/backbones/src/list-layers.ts [mobilenet_v2 | mobilenet_v2_embedded | tfjs <model folder> <layer>...]
import { createBackbone } from './registry';
import { listTfjsModelLayers } from './tfjs-model';

async function main(argv: string[]) {
  const [id = 'mobilenet_v2', path, ...layers] = argv;
  if (id === 'tfjs' && path && layers.length === 0) {
    const { kind, names } = listTfjsModelLayers(path);
    console.log(`${path}: tfjs ${kind} model, ${names.length} ${kind === 'graph' ? 'nodes' : 'layers'}:\n${names.join('\n')}`);
    return;
  }
  const b = await createBackbone(id === 'tfjs' ? { id, path, layers } : { id, path });
  console.log(`${b.id} (input ${b.inputSize}, weights sha256 ${b.weightsHash.slice(0, 12)}…), default layers: ${b.defaultLayers.join(', ')}`);
  console.log('name\tstride\tchannels');
  for (const l of b.layerInfo()) console.log(`${l.name}\t${l.stride}\t${l.channels}`);
  b.dispose();
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(e.name === 'UserError' ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
