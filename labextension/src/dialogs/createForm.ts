/** The Create dialog's form: the source types, their path forms, and the POST artifacts body. */
import type { ArtifactKind, CreateArtifact } from '../api/types';
import { FormErrors, validateName } from './validation';

type SourceType = NonNullable<CreateArtifact['source_type']>;
type KaggleType = NonNullable<CreateArtifact['kaggle_type']>;

export interface ISourceType {
  /** The `source_type` sent to the server ('public' for a public checkpoint, which has its own route). */
  value: SourceType | 'public';
  label: string;
  /** The accepted path forms, shown under the Path field. */
  hint: string;
  fields: ('endpoint' | 'branch' | 'kaggle_type')[];
}

export const SOURCE_TYPES: ISourceType[] = [
  {
    value: 'local',
    label: 'Local',
    hint: 'A file or folder inside the Jupyter root folder, relative to it (models/run1) or absolute.',
    fields: []
  },
  {
    value: 'aws',
    label: 'AWS',
    hint: 's3://bucket/key',
    fields: []
  },
  {
    value: 'azure',
    label: 'Azure',
    hint: 'https://ACCOUNT.blob.core.windows.net/CONTAINER/path or az://CONTAINER/path',
    fields: []
  },
  {
    value: 'gcp',
    label: 'GCP',
    hint: 'gs://bucket/key',
    fields: []
  },
  {
    value: 'git',
    label: 'Git',
    hint: 'https://host/repo.git, ssh://git@host/repo.git, git@host:repo.git or file:///path/repo.git; optional Branch',
    fields: ['branch']
  },
  {
    value: 'hf',
    label: 'Hugging Face',
    hint: 'NAMESPACE/REPO (or datasets/NAMESPACE/REPO); optional Branch',
    fields: ['branch']
  },
  {
    value: 'kaggle',
    label: 'Kaggle',
    hint: 'The short name of a competition, or owner/name of a dataset or kernel, with its Type',
    fields: ['kaggle_type']
  },
  {
    value: 'wasabi',
    label: 'Wasabi',
    hint: 's3://bucket/key, with the Endpoint https://s3.REGION.wasabisys.com',
    fields: ['endpoint']
  },
  {
    value: 'web',
    label: 'Web',
    hint: 'http://..., https://..., ftp://... or ftps://...',
    fields: []
  },
  {
    value: 'public',
    label: 'Public checkpoint',
    hint: 'The id of a public checkpoint from the list',
    fields: []
  }
];

export const KAGGLE_TYPES: KaggleType[] = ['competition', 'dataset', 'kernel'];

export interface ICreateForm {
  kind: ArtifactKind;
  name: string;
  sourceType: string;
  path: string;
  endpoint: string;
  branch: string;
  kaggleType: string;
}

const PATH_CHECKS: Record<string, [RegExp, string]> = {
  aws: [/^s3:\/\/[^/]+/, 'An AWS path starts with s3://bucket/'],
  wasabi: [/^s3:\/\/[^/]+/, 'A Wasabi path starts with s3://bucket/'],
  gcp: [/^gs:\/\/[^/]+/, 'A GCP path starts with gs://bucket/'],
  azure: [
    /^(az|abfss?):\/\/[^/]+|^https:\/\/[a-z0-9]{3,24}\.blob\.core\.windows\.net\/[^/]+/,
    'An Azure path is az://CONTAINER/path or https://ACCOUNT.blob.core.windows.net/CONTAINER/path'
  ],
  hf: [
    /^(?:(?:datasets|spaces|models)\/)?[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'A Hugging Face path is NAMESPACE/REPO or datasets/NAMESPACE/REPO'
  ],
  git: [
    /^(https?|ssh|git|file):\/\/.+|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/,
    'A Git path is https://host/repo.git, ssh://git@host/repo.git, git@host:repo.git or file:///path/repo.git'
  ],
  kaggle: [
    /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/,
    'A Kaggle path is a competition name or owner/name'
  ],
  web: [/^(https?|ftps?):\/\/[^/]+/, 'A web path starts with http://, https://, ftp:// or ftps://']
};

/** Inline errors of the Create dialog; empty when the form can be sent. */
export function validateCreateForm(form: ICreateForm): FormErrors {
  const errors: FormErrors = {};
  const nameError = validateName(form.name);
  if (nameError) {
    errors.name = nameError;
  }
  const type = SOURCE_TYPES.find(t => t.value === form.sourceType);
  if (!type) {
    errors.sourceType = 'Choose a source type.';
    return errors;
  }
  const path = form.path.trim();
  if (!path) {
    errors.path = type.value === 'public' ? 'Choose a public checkpoint.' : 'Give a path.';
  } else if (PATH_CHECKS[type.value] && !PATH_CHECKS[type.value][0].test(path)) {
    errors.path = `${PATH_CHECKS[type.value][1]}.`;
  } else if (type.value === 'local' && /^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !path.startsWith('file://')) {
    errors.path = 'A local path is a path in the Jupyter root folder, not a URL; pick the matching source type.';
  }
  if (type.value === 'wasabi') {
    const endpoint = form.endpoint.trim();
    if (!endpoint) {
      errors.endpoint = 'Wasabi needs its endpoint, e.g. https://s3.eu-central-1.wasabisys.com.';
    } else if (!/^https?:\/\/[^/]+/.test(endpoint)) {
      errors.endpoint = 'The endpoint is a URL such as https://s3.eu-central-1.wasabisys.com.';
    }
  }
  if (type.fields.includes('branch') && /[\s~^:?*[\\]/.test(form.branch.trim())) {
    errors.branch = 'A branch name cannot contain spaces or any of ~ ^ : ? * [ \\.';
  }
  if (type.value === 'kaggle' && !(KAGGLE_TYPES as string[]).includes(form.kaggleType)) {
    errors.kaggleType = 'Choose competition, dataset or kernel.';
  }
  return errors;
}

/** The POST artifacts body of a valid Create form. */
export function createRequest(form: ICreateForm): CreateArtifact {
  const body: CreateArtifact = {
    kind: form.kind,
    name: form.name,
    source: form.path.trim(),
    // Valid forms hold one of SOURCE_TYPES; a public checkpoint is fetched by its own route.
    source_type: form.sourceType as SourceType
  };
  const type = SOURCE_TYPES.find(t => t.value === form.sourceType);
  if (type?.fields.includes('endpoint') && form.endpoint.trim()) {
    body.endpoint = form.endpoint.trim();
  }
  if (type?.fields.includes('branch') && form.branch.trim()) {
    body.branch = form.branch.trim();
  }
  if (type?.fields.includes('kaggle_type') && form.kaggleType) {
    body.kaggle_type = form.kaggleType as KaggleType;
  }
  return body;
}
