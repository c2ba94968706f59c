import type { ErrorSpec } from '@differad/core';

const fails = (summary: string) => ({ status: null, retryable: false, summary }) as const;

/** The error codes @differad/images throws. */
export const IMAGE_ERRORS = {
  IMAGE_NOT_FOUND: fails('An image file (or a folder of images) does not exist.'),
  IMAGE_READ_FAILED: {
    status: null,
    // Retryable only for a transient file-system code (EMFILE, ENFILE, EAGAIN, EBUSY, EIO); the throw site decides.
    retryable: false,
    summary: 'An image file cannot be read (permissions, not a regular file, an I/O error).',
  },
  IMAGE_TOO_LARGE: fails('An image file is above the byte limit, or its header declares more pixels than the limit.'),
  IMAGE_UNSUPPORTED_FORMAT: fails('An image is in a format the caller does not accept, or has samples other than 8- or 16-bit unsigned.'),
  IMAGE_DECODE_FAILED: fails('The bytes are not a recognizable image, or are corrupt or truncated.'),
  IMAGE_ENCODE_FAILED: fails('Pixels cannot be encoded or the encoded image cannot be written.'),
  IMAGE_CROP_OUT_OF_BOUNDS: fails('A crop window is not an integer box of positive area inside the image.'),
  IMAGE_MASK_SIZE_MISMATCH: fails('A mask does not have the size of its image.'),
  SYNTH_IMAGE_UNUSABLE: fails('A normal image is too small for synthesis.'),
} as const satisfies Record<string, ErrorSpec>;

declare module '@differad/core' {
  interface DifferadErrorTables {
    readonly images: typeof IMAGE_ERRORS;
  }
}
