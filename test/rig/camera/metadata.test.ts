// Checks the reader of rpicam-still's txt metadata: blocks end at a blank line however the stream is cut,
// and exposure, gain and colour gains come out of libcamera's printed values.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  frameExposure,
  MetadataReader,
  parseNumbers,
  watchMetadata,
  type MetadataBlock,
} from '../../../src/rig/camera/metadata.js';

// As libcamera's ControlValue::toString prints them (floats with 6 decimals, arrays in "[ … ]").
const BLOCK_1 = [
  'SensorTimestamp=3917420436000',
  'ExposureTime=19987',
  'AnalogueGain=1.333333',
  'DigitalGain=1.002417',
  'ColourGains=[ 1.832031, 2.015625 ]',
  'ColourTemperature=4366',
  'ScalerCrop=(0, 0)/4056x3040',
  'AeLocked=true',
].join('\n');
const BLOCK_2 = 'ExposureTime=500\nAnalogueGain=8.000000\nColourGains=[ 1.000000, 3.500000 ]\nLux=µ-free';
const STREAM = `${BLOCK_1}\n\n${BLOCK_2}\n\n`;

function readAll(chunks: (string | Buffer)[]): MetadataBlock[] {
  const reader = new MetadataReader();
  return chunks.flatMap((chunk) => reader.push(chunk));
}

describe('MetadataReader', () => {
  it('returns a block only once its blank line has arrived', () => {
    const reader = new MetadataReader();
    expect(reader.push(BLOCK_1 + '\n')).toEqual([]);
    const [block] = reader.push('\n');
    expect(block.get('ExposureTime')).toBe('19987');
    expect(block.get('ScalerCrop')).toBe('(0, 0)/4056x3040');
    expect(block.size).toBe(8);
  });

  it('gives the same blocks whether the stream comes whole or byte by byte', () => {
    const whole = readAll([STREAM]);
    const bytes = Buffer.from(STREAM);
    const byByte = readAll([...bytes].map((b) => Buffer.from([b])));
    expect(whole).toHaveLength(2);
    expect(byByte.map((b) => [...b])).toEqual(whole.map((b) => [...b]));
    // The multi-byte µ survived being cut between its two bytes.
    expect(byByte[1].get('Lux')).toBe('µ-free');
  });

  it('accepts CRLF line ends and skips empty blocks and lines that are not key=value', () => {
    const blocks = readAll(['\n\nnoise line\r\nExposureTime=10\r\n\r\n\r\n']);
    expect(blocks).toHaveLength(1);
    expect([...blocks[0]]).toEqual([['ExposureTime', '10']]);
  });

  it('keeps an unfinished block pending', () => {
    expect(readAll(['ExposureTime=10\nAnalogueGain=1.0'])).toEqual([]);
  });
});

describe('watchMetadata', () => {
  it('reports each block of a stream as it completes and stops when asked', () => {
    const stream = new PassThrough();
    const seen: string[] = [];
    const stop = watchMetadata(stream, (block) => seen.push(block.get('ExposureTime') ?? '?'));
    stream.write(BLOCK_1.slice(0, 40));
    expect(seen).toEqual([]);
    stream.write(BLOCK_1.slice(40) + '\n\n');
    expect(seen).toEqual(['19987']);
    stop();
    stream.write(BLOCK_2 + '\n\n');
    expect(seen).toEqual(['19987']);
  });
});

describe('frameExposure', () => {
  it('reads shutter (µs), analogue gain and the red/blue colour gains', () => {
    const [first, second] = readAll([STREAM]);
    expect(frameExposure(first)).toEqual({
      shutterUs: 19987,
      analogueGain: 1.333333,
      awbGains: [1.832031, 2.015625],
    });
    expect(frameExposure(second)).toEqual({ shutterUs: 500, analogueGain: 8, awbGains: [1, 3.5] });
  });

  it('leaves out what is missing or unreadable', () => {
    const block = new Map([
      ['ExposureTime', 'n/a'],
      ['AnalogueGain', '0'],
      ['ColourGains', '[ 1.5 ]'],
    ]);
    expect(frameExposure(block)).toEqual({});
    expect(frameExposure(new Map([['AnalogueGain', '2.5']]))).toEqual({ analogueGain: 2.5 });
  });

  it('parses the numbers of printed values', () => {
    expect(parseNumbers('[ 1.832031, 2.015625 ]')).toEqual([1.832031, 2.015625]);
    expect(parseNumbers('(0, 0)/4056x3040')).toEqual([0, 0, 4056, 3040]);
    expect(parseNumbers('-1.5e-3')).toEqual([-0.0015]);
    expect(parseNumbers('true')).toEqual([]);
  });
});
