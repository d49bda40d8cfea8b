import path from 'node:path';
import { PRESETS, type PresetName } from '../tools/model/marian-config.js';
import { repoRoot } from '../tools/repo-root.js';

/**
 * Where the benchmarks keep a generated model: `bench/.models/Xenova/opus-mt-<lang>-en` for
 * opus-mt-base, a folder per other preset; an M2M-100 preset is one model for both languages.
 */
export function benchModelDir(preset: PresetName, lang: 'ar' | 'vi'): string {
  const root = path.join(repoRoot, 'bench', '.models');
  if (PRESETS[preset].family === 'm2m_100') return path.join(root, preset, 'newsbridge', preset);
  if (preset === 'opus-mt-base') return path.join(root, 'Xenova', `opus-mt-${lang}-en`);
  if (preset === 'tiny') return path.join(root, 'tiny', 'Xenova', `opus-mt-${lang}-en`);
  return path.join(root, preset, 'Helsinki-NLP', `opus-mt-${preset}-${lang}-en`);
}
