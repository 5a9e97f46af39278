"""A small float32 multilayer perceptron with manual backpropagation, and Adam."""

import itertools

import numpy as np

ACTIVATIONS = ("identity", "relu", "sigmoid")


class MLP:
    """A stack of dense layers, ``y = activation(x @ W + b)`` per layer.

    Parameters
    ----------
    sizes : sequence of int
        The width of the input, of each hidden layer and of the output.
    activations : sequence of str
        One name from `ACTIVATIONS` per layer, so ``len(sizes) - 1`` names.
    rng : numpy.random.Generator
        Draws the initial weights.
    """

    def __init__(self, sizes, activations, rng):
        if len(activations) != len(sizes) - 1:
            raise ValueError(
                f"activations has {len(activations)} names but sizes describes "
                f"{len(sizes) - 1} layers; give one activation per layer"
            )
        for name in activations:
            if name not in ACTIVATIONS:
                raise ValueError(
                    f"activation must be one of {ACTIVATIONS}, not {name!r}"
                )
        self.sizes = tuple(sizes)
        self.activations = tuple(activations)
        self.params = []
        for fan_in, fan_out in itertools.pairwise(sizes):
            # He-uniform weights keep the activations' scale steady through ReLU layers.
            limit = np.sqrt(6.0 / fan_in)
            weights = rng.uniform(-limit, limit, size=(fan_in, fan_out))
            self.params += [weights.astype(np.float32), np.zeros(fan_out, np.float32)]

    def copy(self):
        """Return an independent copy with the same weights."""
        clone = object.__new__(MLP)
        clone.sizes = self.sizes
        clone.activations = self.activations
        clone.params = [p.copy() for p in self.params]
        return clone

    def __call__(self, x):
        """Return the output for a batch `x` of shape (batch, sizes[0])."""
        output, _ = self.forward(x)
        return output

    def forward(self, x):
        """Compute the output and keep what `backward` needs.

        Returns
        -------
        output : ndarray of shape (batch, sizes[-1])
        cache : list
            The input and the output of each layer.
        """
        cache = [x]
        for layer, name in enumerate(self.activations):
            weights, bias = self.params[2 * layer], self.params[2 * layer + 1]
            x = _activate(name, x @ weights + bias)
            cache.append(x)
        return x, cache

    def backward(self, cache, grad_output):
        """Backpropagate the gradient of the loss with respect to the output.

        Returns
        -------
        list of ndarray
            The gradient of each parameter, in the order of `params`.
        """
        grads = [None] * len(self.params)
        grad = grad_output
        for layer in reversed(range(len(self.activations))):
            grad = _activation_grad(self.activations[layer], cache[layer + 1], grad)
            grads[2 * layer] = cache[layer].T @ grad
            grads[2 * layer + 1] = grad.sum(axis=0)
            if layer > 0:
                grad = grad @ self.params[2 * layer].T
        return grads


def _activate(name, z):
    if name == "relu":
        return np.maximum(z, 0, out=z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    return z


def _activation_grad(name, output, grad):
    """Chain `grad` through an activation, given only the activation's output."""
    if name == "relu":
        return grad * (output > 0)
    if name == "sigmoid":
        return grad * output * (1 - output)
    return grad


class Adam:
    """The Adam optimizer (Kingma and Ba, 2015), updating the parameters in place.

    Parameters
    ----------
    params : list of ndarray
        The arrays to update.
    learning_rate : float, default 1e-3
    beta1, beta2 : float, default 0.9 and 0.999
        Decay rates of the first and second moment estimates.
    epsilon : float, default 1e-8
    """

    def __init__(
        self, params, *, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8
    ):
        self.params = params
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.steps = 0
        self.first = [np.zeros_like(p) for p in params]
        self.second = [np.zeros_like(p) for p in params]

    def step(self, grads):
        """Apply one update from the gradients `grads`, one per parameter."""
        self.steps += 1
        correction1 = 1 - self.beta1**self.steps
        correction2 = 1 - self.beta2**self.steps
        step_size = np.float32(self.learning_rate * np.sqrt(correction2) / correction1)
        for p, g, m, v in zip(self.params, grads, self.first, self.second):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * (g * g)
            p -= step_size * m / (np.sqrt(v) + self.epsilon)


class ExponentialMovingAverage:
    """A running average of parameters, ``average += (1 - decay) * (param - average)``.

    Diffusion models sample better from averaged weights than from the last step's,
    which carry the noise of the last few minibatches.

    Parameters
    ----------
    model : MLP
        The model whose parameters to average. The average starts from a copy of it.
    decay : float, default 0.999
        The weight of the past average at each update, once past the warm-up: update
        ``k`` uses ``min(decay, (1 + k) / (10 + k))``, so that the initial weights
        fade out within the first few hundred updates of a short training.
    """

    def __init__(self, model, *, decay=0.999):
        self.model = model.copy()
        self.decay = decay
        self.updates = 0

    def update(self, params):
        """Move the average towards `params`, the model's current parameters."""
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        self.updates += 1
        for average, param in zip(self.model.params, params):
            average += (1 - decay) * (param - average)
