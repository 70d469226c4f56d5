package dev.nimbus.api;

/**
 * One HTTP/1.1 request read from the API socket.
 *
 * @param method {@code GET}, {@code PUT}, {@code PATCH} or {@code DELETE}
 * @param path the absolute path of the target, e.g. {@code /api/v1/vm.info} (an absolute-form
 *     target such as {@code http://localhost/api/v1/vm.info} is reduced to its path)
 * @param body the body, or null when the request has none ({@code Content-Length} absent or 0)
 * @param fds descriptors that came with the request as {@code SCM_RIGHTS}; the request owns
 *     them until a handler takes them
 */
public record HttpRequest(String method, String path, byte[] body, int[] fds) {}
