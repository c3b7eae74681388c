// The hardware/ folder against the config schema and the Raspberry Pi header: every preset is a valid
// `rig` section, uses each pin once and appears in pins.md, whose tables name the right header pins.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rigSchema, type RigConfig } from '../../src/config/schema.js';

const hardware = new URL('../../hardware/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, hardware), 'utf8');

/** BCM GPIO number → physical pin of the 40-pin header (every Pi since the B+: Pi 4, Pi 5, Zero 2 W). */
// prettier-ignore
const HEADER_PIN_OF_BCM: Readonly<Record<number, number>> = {
  0: 27, 1: 28, 2: 3, 3: 5, 4: 7, 5: 29, 6: 31, 7: 26, 8: 24, 9: 21, 10: 19, 11: 23, 12: 32, 13: 33,
  14: 8, 15: 10, 16: 36, 17: 11, 18: 12, 19: 35, 20: 38, 21: 40, 22: 15, 23: 16, 24: 18, 25: 22,
  26: 37, 27: 13,
};
const POWER_PINS: Readonly<Record<string, readonly number[]>> = {
  '3V3': [1, 17],
  '5V': [2, 4],
  GND: [6, 9, 14, 20, 25, 30, 34, 39],
};
/** I²C (2, 3), SPI0 (7–11) and the serial console (14, 15): left free for other add-ons. */
const SHARED_BUS_PINS = [2, 3, 7, 8, 9, 10, 11, 14, 15];

interface Table {
  heading: string;
  rows: Record<string, string>[];
}

/** Every pipe table of a Markdown file, with the `## ` heading it sits under. */
function tablesOf(markdown: string): Table[] {
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim());
  const lines = markdown.split('\n');
  const tables: Table[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('## ')) heading = lines[i].slice(3);
    const isHeader = lines[i].startsWith('|') && /^\|[\s:|-]+\|$/.test(lines[i + 1]?.trim() ?? '');
    if (!isHeader) continue;
    const columns = cells(lines[i]);
    const rows: Record<string, string>[] = [];
    for (i += 2; i < lines.length && lines[i].startsWith('|'); i++) {
      const values = cells(lines[i]);
      rows.push(Object.fromEntries(columns.map((c, k) => [c, values[k] ?? ''])));
    }
    tables.push({ heading, rows });
  }
  return tables;
}

interface PinUse {
  role: string;
  bcm: number;
}

function pinsOf(rig: RigConfig): PinUse[] {
  const { driver, limitSwitch } = rig.stage;
  const uses: PinUse[] =
    driver.type === 'uln2003'
      ? driver.pins.map((bcm, i) => ({ role: `IN${i + 1}`, bcm }))
      : [
          { role: 'STEP', bcm: driver.stepPin },
          { role: 'DIR', bcm: driver.dirPin },
          ...(driver.enablePin === undefined ? [] : [{ role: 'EN', bcm: driver.enablePin }]),
        ];
  if (limitSwitch) uses.push({ role: 'limit switch', bcm: limitSwitch.pin });
  if (rig.button) uses.push({ role: 'button', bcm: rig.button.pin });
  if (rig.indicator) uses.push({ role: 'LED', bcm: rig.indicator.pin });
  return uses;
}

const presetFiles = readdirSync(new URL('presets/', hardware))
  .filter((f) => f.endsWith('.json'))
  .sort();
const presets = presetFiles.map((file) => {
  const raw: unknown = JSON.parse(read(`presets/${file}`));
  return { file, raw, parsed: rigSchema.safeParse(raw) };
});
const rigOf = (p: (typeof presets)[number]): RigConfig => {
  if (!p.parsed.success) throw new Error(`${p.file} is not a valid rig section`);
  return p.parsed.data;
};

const pinTables = tablesOf(read('pins.md')).filter((t) => t.rows[0] && 'BCM' in t.rows[0]);
const pinTablesOf = (file: string) => pinTables.filter((t) => t.heading.includes(`presets/${file}`));
const gpioRows = (tables: Table[]) => tables.flatMap((t) => t.rows).filter((r) => /^\d+$/.test(r.BCM));

const arithmetic = tablesOf(read('README.md')).find((t) => t.rows[0] && 'stepsPerMm' in t.rows[0]);

describe('the 40-pin header map of this test', () => {
  it('gives each of the 40 pins exactly one job', () => {
    const pins = [...Object.values(HEADER_PIN_OF_BCM), ...Object.values(POWER_PINS).flat()];
    expect(pins.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});

describe('hardware/presets', () => {
  it('holds the four driver presets', () => {
    expect(presetFiles).toEqual(['a4988.json', 'drv8825.json', 'tmc2209.json', 'uln2003-28byj48.json']);
  });

  describe.each(presets)('$file', (preset) => {
    it('is a valid rig section', () => {
      const issues = preset.parsed.success ? [] : preset.parsed.error.issues;
      expect(issues).toEqual([]);
      expect(rigOf(preset).type).toBe('pi');
    });

    it('wires a button and a status LED', () => {
      const rig = rigOf(preset);
      expect(rig.button?.activeLow).toBe(true);
      expect(rig.indicator?.activeLow).toBe(false);
    });

    it('uses no BCM pin twice', () => {
      const uses = pinsOf(rigOf(preset));
      const clashes = uses.filter((u, i) => uses.findIndex((v) => v.bcm === u.bcm) !== i);
      expect(clashes).toEqual([]);
    });

    it('leaves I²C, SPI0 and the serial console free', () => {
      const onBuses = pinsOf(rigOf(preset)).filter((u) => SHARED_BUS_PINS.includes(u.bcm));
      expect(onBuses).toEqual([]);
    });

    it('has a pins.md table listing exactly its pins', () => {
      const tables = pinTablesOf(preset.file);
      expect(tables.length).toBeGreaterThan(0);
      const documented = gpioRows(tables).map((r) => Number(r.BCM));
      const used = pinsOf(rigOf(preset)).map((u) => u.bcm);
      expect([...documented].sort((a, b) => a - b)).toEqual([...used].sort((a, b) => a - b));
    });

    it('has the stepsPerMm that the README works out for it', () => {
      const row = arithmetic?.rows.find((r) => Object.values(r)[0].includes(`presets/${preset.file}`));
      expect(row, `README.md stepsPerMm table row for ${preset.file}`).toBeDefined();
      if (!row) return;
      const { stage } = rigOf(preset);
      const stepsPerTurn = Number(row['Motor steps per turn']);
      const microsteps = Number(row['Microsteps']);
      const umPerTurn = Number(row['µm per knob turn']);
      expect(microsteps).toBe(stage.driver.type === 'uln2003' ? 1 : stage.driver.microsteps);
      expect(Number(row['stepsPerMm'])).toBe(stage.stepsPerMm);
      expect(Math.abs((stepsPerTurn * microsteps) / (umPerTurn / 1000) - stage.stepsPerMm)).toBeLessThan(1);
      expect(Number(row['µm per step'])).toBeCloseTo(1000 / stage.stepsPerMm, 3);
    });
  });

  it('keeps the 28BYJ-48 at or below 500 half steps per second', () => {
    const uln = presets.map(rigOf).filter((rig) => rig.stage.driver.type === 'uln2003');
    expect(uln.length).toBeGreaterThan(0);
    for (const { stage } of uln)
      expect((stage.maxSpeedUmPerS * stage.stepsPerMm) / 1000).toBeLessThanOrEqual(500);
  });
});

describe('hardware/pins.md', () => {
  const rows = pinTables.flatMap((t) => t.rows.map((row) => ({ heading: t.heading, row })));

  it('has pin tables', () => {
    expect(rows.length).toBeGreaterThan(20);
  });

  it('names the header pin of every BCM number correctly', () => {
    const wrong = rows
      .filter(({ row }) => /^\d+$/.test(row.BCM))
      .filter(({ row }) => HEADER_PIN_OF_BCM[Number(row.BCM)] !== Number(row['Header pin']))
      .map(({ heading, row }) => `${heading}: BCM ${row.BCM} is not header pin ${row['Header pin']}`);
    expect(wrong).toEqual([]);
  });

  it('puts every power row on a header pin of that supply', () => {
    const power = rows.filter(({ row }) => !/^\d+$/.test(row.BCM));
    expect(power.length).toBeGreaterThan(0);
    const wrong = power
      .filter(({ row }) => !(POWER_PINS[row.Function] ?? []).includes(Number(row['Header pin'])))
      .map(({ heading, row }) => `${heading}: ${row.Function} on header pin ${row['Header pin']}`);
    expect(wrong).toEqual([]);
  });
});
