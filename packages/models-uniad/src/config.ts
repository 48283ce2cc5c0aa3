import { z } from 'zod';

/** UniAD's reconstruction-net config. Defaults are the paper's (official experiments/MVTec-AD/config.yaml). */
export const UniADConfigSchema = z
  .object({
    hiddenDim: z.number().int().positive().default(256),
    heads: z.number().int().positive().default(8),
    encoderLayers: z.number().int().min(0).default(4),
    decoderLayers: z.number().int().positive().default(4),
    ffnDim: z.number().int().positive().default(1024),
    dropout: z.number().min(0).max(1).default(0.1),
    /** positional embedding: learned row+column (paper) or fixed sine */
    posEmbed: z.enum(['learned', 'sine']).default('learned'),
    /**
     * decoder queries: 'layerwise' = a learned query per decoder layer (paper, Sec. 3.2);
     * 'shared' = one learned query used by every layer; 'first' = a learned query in the first layer only,
     * later layers query with the previous layer's output; 'none' = every layer queries with the previous
     * output (the first with the encoder output), i.e. a vanilla decoder.
     */
    query: z.enum(['layerwise', 'shared', 'first', 'none']).default('layerwise'),
    neighborMask: z
      .object({
        /** side of the masked square neighbourhood (odd); the paper uses 7×7 on the 14×14 grid */
        size: z.number().int().positive().default(7),
        encoder: z.boolean().default(true),
        decoder1: z.boolean().default(true),
        decoder2: z.boolean().default(true),
      })
      .strict()
      .default({ size: 7, encoder: true, decoder1: true, decoder2: true }),
    jitter: z
      .object({
        /** noise = N(0,1) · ‖token‖₂ / C · scale; 0 = off */
        scale: z.number().min(0).default(20),
        /** probability that a training batch is jittered */
        prob: z.number().min(0).max(1).default(1),
      })
      .strict()
      .default({ scale: 20, prob: 1 }),
  })
  .strict();

export type UniADConfig = z.infer<typeof UniADConfigSchema>;
