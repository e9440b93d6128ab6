/**
 * Sample photos fetched at set-up, for the README's first command and the demo. Photos are
 * never committed: like models, they come from their public upstream or a mirror, by hash.
 */
import type { PinnedFile } from './fetch.js';

export const SAMPLE_PHOTOS: readonly PinnedFile[] = [
  {
    // The photo of Admiral Grace Hopper used by the WasmEdge TensorFlow examples.
    name: 'grace_hopper.jpg',
    sha256: 'e1f57e98cf38076c0f9a058d74ffddf90f20453e436033784606b63c8ed2e49a',
    url: 'https://raw.githubusercontent.com/second-state/wasm-learning/master/cli/tflite/grace_hopper.jpg',
  },
];

const IMAGENET_SAMPLE = 'https://raw.githubusercontent.com/EliSchwartz/imagenet-sample-images/master';

function imagenetSample(name: string, sha256: string): PinnedFile {
  return { name, sha256, url: `${IMAGENET_SAMPLE}/${name}` };
}

/**
 * Photos a converted model is checked on before it is used (src/convert/verify.ts): 20
 * ImageNet photos, every 50th class of the public one-per-class sample, for classifiers; and
 * photos with faces for detectors. Fetched at set-up like the samples.
 */
export const VERIFICATION_PHOTOS: {
  readonly classify: readonly PinnedFile[];
  readonly detect: readonly PinnedFile[];
} = {
  classify: [
    imagenetSample(
      'n01440764_tench.JPEG',
      '98f7e89b26142f7bdb61f3a627dee89729b0bb07a29e9e7f3be9d394c00c6f01',
    ),
    imagenetSample(
      'n01698640_American_alligator.JPEG',
      '714cee814bae6b054ed4c9a16f3949049f9616d940350006e7630ba2479af875',
    ),
    imagenetSample(
      'n01860187_black_swan.JPEG',
      '8ca32c93d079f636e130e8f73bb090b0a96145e0b46dad6b5b6e96906a6f68b1',
    ),
    imagenetSample(
      'n02077923_sea_lion.JPEG',
      '20a6d861b5a55f8401b95635f7f7f680aeec5b8fed9d074dc452596c08449cf4',
    ),
    imagenetSample(
      'n02097474_Tibetan_terrier.JPEG',
      '3ba6ddf33c4cd9400f8ffa2a40a58bb0f39cc0decc4b0ee50b6c5fe5f021b57e',
    ),
    imagenetSample(
      'n02110185_Siberian_husky.JPEG',
      '776cfad42b60eff9516a3b0a7aac0b8c4470ceb5dc9dc972543f1393c0bae20b',
    ),
    imagenetSample(
      'n02165105_tiger_beetle.JPEG',
      'fae69ae44e4c4a4fbb207816acda900e73498248863df87fb095b27ca257e63a',
    ),
    imagenetSample('n02417914_ibex.JPEG', 'ad6690c058a74e8b130e11e1a75adc888d3b2c204418993c811afa67b48dfa61'),
    imagenetSample(
      'n02669723_academic_gown.JPEG',
      '58de6404a2dee90d7dd6c7f7ef46513c72b411c1f355df33a5011deb8a63b57e',
    ),
    imagenetSample(
      'n02860847_bobsled.JPEG',
      '286e0dd054e869213f6867fec650e2dc9dbe40251c58a6e3150cae4a6fdaf320',
    ),
    imagenetSample(
      'n03042490_cliff_dwelling.JPEG',
      'bb553e0db1e4cd6f9259da433f2ae0c2e30e79419cee61204af545ad519c07ad',
    ),
    imagenetSample(
      'n03297495_espresso_maker.JPEG',
      '83865bb2b54cb057a32a69fbfd528785b5448407550df8881762bdf3e9f360cd',
    ),
    imagenetSample('n03532672_hook.JPEG', '9cc465fb61ba100c9d7c45195ba5071bc7e2ace4ceb93a71787799e00a113932'),
    imagenetSample(
      'n03759954_microphone.JPEG',
      'd4c56c53593594b4789c44144bbd767ebfad18f68a26785f4858c61a05de8510',
    ),
    imagenetSample(
      'n03887697_paper_towel.JPEG',
      'dc7edfb3367a479026537048405b6808228e0082068e27e05532ca32da2b237f',
    ),
    imagenetSample(
      'n04033995_quilt.JPEG',
      '5b234f0ece004558e8b9a48594312847d6a3c01d57ddd8aa450c8444b2b15462',
    ),
    imagenetSample('n04243546_slot.JPEG', '02958fd14aa92a76d0536111cde4092debe316d626a704bcdafb19eb81cc0fb0'),
    imagenetSample(
      'n04399382_teddy.JPEG',
      'd32cf76b9bf8f7022fd80644045d6cb0cbe1bf7ba4e538b1b0dc63dd5366000b',
    ),
    imagenetSample(
      'n04562935_water_tower.JPEG',
      'fcae5e8802f19218853000c199437ce1bce95f281856370d28652b0945d9bce6',
    ),
    imagenetSample(
      'n07747607_orange.JPEG',
      'af01a180e4c2a426288ea7c5864af4375400443f817ebc0ba76bed52f0645c20',
    ),
  ],
  detect: [
    {
      name: 'face.jpg',
      sha256: '270e2bb9a1dce26a042baea93dbc4118d2f9b243c822ae5687ced52715048c56',
      url: 'https://github.com/google-coral/test_data/raw/master/face.jpg',
    },
    SAMPLE_PHOTOS[0] as PinnedFile,
  ],
};
