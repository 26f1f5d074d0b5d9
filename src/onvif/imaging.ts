/**
 * The ONVIF imaging service (ver20 timg) at /onvif/imaging_service: the IR-cut filter only, mapped
 * onto the owner's setting `nightMode`. The filter ON blocks infrared (day picture: night mode off);
 * OFF lets it through (night mode on); AUTO is the camera's own choice (night mode auto).
 */
import type { Settings } from '../settings/schema.js';
import type { ApplyLocal } from './media-model.js';
import { VIDEO_SOURCE } from './media-model.js';
import { type Operation, OperationService } from './operations.js';
import { asRecord, type SoapCall, SoapFault, text } from './soap.js';

export const IMAGING_PATH = '/onvif/imaging_service';

export const IMAGING_CAPABILITIES =
  '<timg:Capabilities ImageStabilization="false" Presets="false" AdaptablePreset="false"/>';

type NightMode = Settings['nightMode'];
type IrCutFilter = 'ON' | 'OFF' | 'AUTO';

const TO_FILTER: Record<NightMode, IrCutFilter> = { off: 'ON', on: 'OFF', auto: 'AUTO' };
const TO_NIGHT_MODE: Record<IrCutFilter, NightMode> = { ON: 'off', OFF: 'on', AUTO: 'auto' };

export interface ImagingDeps {
  settings: () => Settings;
  applyLocal: ApplyLocal;
}

export class ImagingService extends OperationService {
  protected readonly path = IMAGING_PATH;
  protected readonly prefix = 'timg';
  protected readonly what = 'an imaging';
  readonly #deps: ImagingDeps;

  constructor(deps: ImagingDeps) {
    super();
    this.#deps = deps;
  }

  protected readonly operations: Readonly<Record<string, Operation>> = {
    GetServiceCapabilities: () => IMAGING_CAPABILITIES,
    GetImagingSettings: (call) => {
      checkSource(call);
      return `<timg:ImagingSettings><tt:IrCutFilter>${TO_FILTER[this.#deps.settings().nightMode]}</tt:IrCutFilter></timg:ImagingSettings>`;
    },
    GetOptions: (call) => {
      checkSource(call);
      return (
        '<timg:ImagingOptions><tt:IrCutFilterModes>ON</tt:IrCutFilterModes><tt:IrCutFilterModes>OFF</tt:IrCutFilterModes>' +
        '<tt:IrCutFilterModes>AUTO</tt:IrCutFilterModes></timg:ImagingOptions>'
      );
    },
    SetImagingSettings: async (call) => {
      checkSource(call);
      const filter = text(asRecord(call.body.ImagingSettings).IrCutFilter);
      if (filter === undefined) return '';
      if (filter !== 'ON' && filter !== 'OFF' && filter !== 'AUTO') {
        throw new SoapFault('Sender', 'ter:InvalidArgVal', 'IrCutFilter is ON, OFF or AUTO');
      }
      const result = await this.#deps.applyLocal({ nightMode: TO_NIGHT_MODE[filter] }, 'onvif');
      const rejected = result.rejected[0];
      if (rejected)
        throw new SoapFault('Sender', 'ter:InvalidArgVal', `SettingsInvalid: ${rejected.message}`);
      return '';
    },
    GetStatus: (call) => {
      checkSource(call);
      return '<timg:Status/>';
    },
  };
}

function checkSource(call: SoapCall): void {
  const token = text(call.body.VideoSourceToken);
  if (token !== undefined && token !== VIDEO_SOURCE) {
    throw new SoapFault('Sender', 'ter:NoSource', `no video source ${JSON.stringify(token.slice(0, 64))}`);
  }
}
