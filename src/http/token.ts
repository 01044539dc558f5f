/** An RFC 9110 token: what a method, a header name or a WebSocket subprotocol must be. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
