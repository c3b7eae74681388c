// The 3D view: a job's surface in three.js with orbit controls, a Z ruler in µm and a relief
// exaggeration. The daemon's mesh.glb (x, y, z in µm) when it has one, else built from depth.png.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { jobUrl } from './api.js';
import { h } from './dom.js';
import { niceStep } from './depth-scale.js';
import { surfaceFromDepth } from './surface-from-depth.js';

export interface Viewer3d {
  element: HTMLElement;
  /** Resolves once the first picture is drawn (or the view has said why it cannot draw). */
  ready: Promise<void>;
  dispose(): void;
}

interface Surface {
  object: THREE.Object3D;
  /** Relief in the object's own units before exaggeration, and its unit. */
  zRange: number;
  unit: string;
  /** What the viewer shows, for the caption. */
  source: string;
}

/** What the daemon writes into a GLB's asset.extras (src/mesh/encode.ts, meshFacts). */
interface MeshFacts {
  scale?: number;
  umPerPixel?: number;
  zScale?: number;
  maxErrorUm?: number;
}

async function loadGlb(id: string, onBuilding: () => void): Promise<Surface | null> {
  // The first request builds the mesh on the daemon: a second or more on a Pi.
  const slow = window.setTimeout(onBuilding, 400);
  const response = await fetch(jobUrl(id, 'mesh.glb')).finally(() => window.clearTimeout(slow));
  // 404: no mesh route (or no mesh for this job); 400: a daemon whose result route does not know it.
  if (response.status === 404 || response.status === 400) return null;
  if (!response.ok) throw new Error(`mesh.glb answered ${response.status}`);
  const gltf = await new GLTFLoader().parseAsync(await response.arrayBuffer(), '');
  const facts = (gltf.asset?.extras ?? {}) as MeshFacts;
  // glTF is in metres with y up and z down the picture; the view works in µm with z up. Turned
  // +90° about x: height (y) becomes z and the picture's top lies towards +y. Any height
  // exaggeration baked into the file is undone: the Relief slider does that here.
  const toUm = 1e6 / (facts.scale ?? 1);
  gltf.scene.rotation.x = Math.PI / 2;
  gltf.scene.scale.set(toUm, toUm / (facts.zScale ?? 1), toUm);
  const holder = new THREE.Group().add(gltf.scene);
  const box = new THREE.Box3().setFromObject(holder);
  const perPixel =
    facts.umPerPixel === undefined ? '' : `, ${facts.umPerPixel} µm per pixel (mesh.umPerPixel)`;
  const error = facts.maxErrorUm === undefined ? '' : `, within ${facts.maxErrorUm.toFixed(1)} µm`;
  return {
    object: holder,
    zRange: box.max.z - box.min.z,
    unit: 'µm',
    source: `the daemon’s mesh (x, y and z in µm${perPixel}${error})`,
  };
}

async function buildFromDepth(id: string, positions: (number | undefined)[]): Promise<Surface> {
  const s = await surfaceFromDepth(jobUrl(id, '').replace(/\/$/, ''), positions);
  const precision = s.subFrame ? '' : ', whole frames only';
  return {
    object: s.mesh,
    zRange: s.zMax - s.zMin,
    unit: s.unit,
    source: `the depth map, in the browser (the daemon has no mesh.glb; x/y in pixels, z in ${s.unit}${precision})`,
  };
}

/** A vertical ruler at the surface's corner: one tick per `step`, in the relief's own units. */
function ruler(height: number, step: number, at: THREE.Vector3, tickLength: number): THREE.LineSegments {
  const points: number[] = [at.x, at.y, 0, at.x, at.y, height];
  for (let z = 0; z <= height + 1e-9; z += step) points.push(at.x, at.y, z, at.x - tickLength, at.y, z);
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(points, 3));
  return new THREE.LineSegments(geometry, new THREE.LineBasicMaterial({ color: 0xffb000 }));
}

export function viewer3d(id: string, positions: (number | undefined)[]): Viewer3d {
  const canvas = h('canvas', { class: 'viewer-canvas', 'aria-label': '3D surface' });
  const caption = h('p', { class: 'muted caption' }, 'Loading the surface…');
  const legend = h('div', { class: 'z-legend' });
  const relief = h('input', { type: 'range', min: 0, max: 3, step: 0.05, value: 0, 'aria-label': 'Relief' });
  const reliefText = h('span', { class: 'muted nowrap' });
  const element = h(
    'div',
    { class: 'viewer3d' },
    h('div', { class: 'viewer-box' }, canvas, legend),
    h('label', { class: 'wide' }, 'Relief ', relief, ' ', reliefText),
    caption,
  );

  // preserveDrawingBuffer: the canvas can be saved (right click) and checked by the tests.
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(2, window.devicePixelRatio));
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x15181d);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x444444, 2.2));
  const sun = new THREE.DirectionalLight(0xffffff, 1.2);
  sun.position.set(-1, -1, 2);
  scene.add(sun);
  const camera = new THREE.PerspectiveCamera(40, 1, 1, 1e6);
  // Z is height, as in the depth map and the mesh: the orbit turns about it.
  camera.up.set(0, 0, 1);
  const controls = new OrbitControls(camera, canvas);
  const render = () => renderer.render(scene, camera);
  controls.addEventListener('change', render);

  const resize = () => {
    const w = canvas.clientWidth || 640;
    const hgt = canvas.clientHeight || 400;
    renderer.setSize(w, hgt, false);
    camera.aspect = w / hgt;
    camera.updateProjectionMatrix();
    render();
  };
  /** Looks at the whole object from the front, above, whatever the canvas's shape (a phone stands tall). */
  const frame = (object: THREE.Object3D) => {
    const sphere = new THREE.Box3().setFromObject(object).getBoundingSphere(new THREE.Sphere());
    const vertical = THREE.MathUtils.degToRad(camera.fov);
    const horizontal = 2 * Math.atan(Math.tan(vertical / 2) * camera.aspect);
    // A flat surface fills much less than its bounding sphere: come closer than the sphere allows.
    const distance = (sphere.radius / Math.sin(Math.min(vertical, horizontal) / 2)) * 0.75;
    camera.position.copy(sphere.center).addScaledVector(new THREE.Vector3(0, -1, 0.8).normalize(), distance);
    camera.near = distance / 100;
    camera.far = distance * 10;
    camera.updateProjectionMatrix();
    controls.target.copy(sphere.center);
    controls.update();
  };
  const observer = new ResizeObserver(resize);
  observer.observe(canvas);

  const ready = (async () => {
    let surface: Surface;
    try {
      const building = () => (caption.textContent = 'The daemon is building the 3D model…');
      surface = (await loadGlb(id, building)) ?? (await buildFromDepth(id, positions));
    } catch (error) {
      caption.textContent = `The 3D view is not available: ${(error as Error).message}`;
      caption.classList.add('warning');
      return;
    }
    const group = new THREE.Group();
    group.add(surface.object);
    const box = new THREE.Box3().setFromObject(surface.object);
    const size = box.getSize(new THREE.Vector3());
    const centre = box.getCenter(new THREE.Vector3());
    surface.object.position.set(-centre.x, -centre.y, -box.min.z);
    const across = Math.max(size.x, size.y);
    // Default relief: the true scale when it shows, else exaggerated to a quarter of the width.
    const natural = surface.zRange > 0 ? (across * 0.25) / surface.zRange : 1;
    const exaggeration = Math.max(1, natural);
    relief.value = String(Math.log10(exaggeration));
    const step = niceStep(surface.zRange);
    // Beside the surface's front-left corner, in front of the relief (the camera looks from −y).
    const corner = new THREE.Vector3(-size.x / 2 - across * 0.04, -size.y / 2, 0);
    const bar = ruler(surface.zRange, step, corner, across * 0.03);
    group.add(bar);
    scene.add(group);
    const applyRelief = () => {
      const factor = 10 ** Number(relief.value);
      group.scale.set(1, 1, factor);
      reliefText.textContent = `×${factor < 10 ? factor.toFixed(1) : Math.round(factor)} height`;
      render();
    };
    relief.addEventListener('input', applyRelief);
    legend.replaceChildren(
      h('strong', {}, `Z: ${surface.zRange.toFixed(1)} ${surface.unit}`),
      h('span', {}, `ruler ticks every ${step} ${surface.unit}`),
    );
    caption.textContent = `Surface from ${surface.source}. Drag to turn, scroll or pinch to zoom, right-drag to pan.`;
    applyRelief();
    resize();
    frame(group);
    render();
    canvas.dataset.rendered = 'true';
  })();

  return {
    element,
    ready,
    dispose() {
      observer.disconnect();
      controls.dispose();
      scene.traverse((node) => {
        if (node instanceof THREE.Mesh || node instanceof THREE.LineSegments) {
          node.geometry.dispose();
          const materials = Array.isArray(node.material) ? node.material : [node.material];
          for (const m of materials) {
            (m as THREE.MeshStandardMaterial).map?.dispose();
            m.dispose();
          }
        }
      });
      renderer.dispose();
    },
  };
}
